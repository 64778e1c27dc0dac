//! The practice's questions about each medicine of a repeat request (its
//! signed renewal questions, checked in `hub::renewal_questions`): asked
//! under each medicine the patient typed, answered or left blank, and sent
//! sealed with the request.

use std::rc::Rc;

use sealbox_model::renewal::{AnswerKind, RenewalAnswer, RenewalQuestions, MAX_ANSWER_CHARS};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The medicines typed, one per line, blank lines left out.
pub fn medicine_lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn id(item: usize, question: &str) -> String {
    format!("answer-{item}-{question}")
}

fn input(id: &str) -> Option<HtmlInputElement> {
    use wasm_bindgen::JsCast;
    web_sys::window()?.document()?.get_element_by_id(id)?.dyn_into::<HtmlInputElement>().ok()
}

/// What the patient answered, read from the page; questions left blank are
/// not sent.
pub fn answers(questions: &RenewalQuestions, medicines: &[String]) -> Vec<RenewalAnswer> {
    let mut out = Vec::new();
    for (item, medicine) in medicines.iter().enumerate() {
        let Ok(number) = u16::try_from(item) else { break };
        for q in questions.for_medicine(medicine) {
            let base = id(item, &q.id);
            let answer = match q.answer {
                AnswerKind::YesNo => [("yes", "Yes"), ("no", "No")]
                    .into_iter()
                    .find(|(suffix, _)| input(&format!("{base}-{suffix}")).is_some_and(|i| i.checked()))
                    .map(|(_, said)| said.to_owned()),
                AnswerKind::Text => input(&base)
                    .map(|i| i.value().trim().chars().take(MAX_ANSWER_CHARS).collect::<String>())
                    .filter(|v| !v.is_empty()),
            };
            if let Some(answer) = answer {
                out.push(RenewalAnswer {
                    item: number,
                    question_id: q.id.clone(),
                    question: q.text.clone(),
                    answer,
                });
            }
        }
    }
    out
}

#[derive(Properties, PartialEq)]
pub struct RenewalProps {
    pub questions: Rc<RenewalQuestions>,
    pub medicines: Vec<String>,
}

/// A group of questions under each medicine typed.
#[function_component]
pub fn RenewalForm(props: &RenewalProps) -> Html {
    html! {
        <div id="renewal">
            { for props.medicines.iter().enumerate().map(|(item, medicine)| {
                let asked = props.questions.for_medicine(medicine);
                if asked.is_empty() {
                    return html! {};
                }
                html! {
                    <fieldset class="renewal" id={format!("renewal-{item}")}>
                        <legend>{ format!("About {medicine}") }</legend>
                        { for asked.into_iter().map(|q| {
                            let base = id(item, &q.id);
                            match q.answer {
                                AnswerKind::YesNo => html! {
                                    <div class="question" role="radiogroup" aria-labelledby={format!("{base}-text")}>
                                        <span class="label" id={format!("{base}-text")}>{ &q.text }</span>
                                        <label class="choice"><input type="radio" name={base.clone()} id={format!("{base}-yes")} />{ " Yes" }</label>
                                        <label class="choice"><input type="radio" name={base.clone()} id={format!("{base}-no")} />{ " No" }</label>
                                    </div>
                                },
                                AnswerKind::Text => html! {
                                    <div class="question">
                                        <label for={base.clone()}>{ &q.text }</label>
                                        <input type="text" id={base} maxlength={MAX_ANSWER_CHARS.to_string()} />
                                    </div>
                                },
                            }
                        }) }
                    </fieldset>
                }
            }) }
        </div>
    }
}
