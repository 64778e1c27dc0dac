//! Context checks that stop a matched phrase from raising a flag:
//! negation ("no chest pain", "not suicidal", "denies"), past history ("had
//! chest pain last year, sorted"), someone else's past ("my dad had a stroke
//! years ago") and hypotheticals or questions about information ("what
//! should I do if I get chest pain?").

use regex::bytes::Regex;

use super::normalise::{Normalised, Token};
use super::RedFlagError;

/// Words that negate what follows.
const NEGATION_CUES: &[&str] = &[
    "no", "not", "never", "denies", "denied", "deny", "without", "nil", "none", "neither", "nor", "don't",
    "doesn't", "didn't", "haven't", "hasn't", "hadn't", "isn't", "aren't", "wasn't", "weren't", "wouldn't",
    "won't", "ain't", "free", "absence", "negative", "stopped",
];

/// Words that may stand between a negation and what it negates.
const FILLER: &[&str] = &[
    "a",
    "an",
    "the",
    "any",
    "some",
    "of",
    "have",
    "has",
    "had",
    "having",
    "get",
    "got",
    "getting",
    "gotten",
    "feel",
    "feeling",
    "felt",
    "feels",
    "been",
    "be",
    "being",
    "experienced",
    "experiencing",
    "noticed",
    "noticing",
    "suffered",
    "suffering",
    "from",
    "with",
    "signs",
    "symptoms",
    "sign",
    "symptom",
    "thoughts",
    "thought",
    "actually",
    "currently",
    "at",
    "all",
    "ever",
    "more",
    "much",
    "obvious",
    "further",
    "new",
    "significant",
    "i",
    "i'm",
    "am",
    "is",
    "are",
    "was",
    "it",
    "that",
    "there",
    "these",
    "those",
    "my",
    "his",
    "her",
    "their",
    "were",
    "want",
    "to",
    "wanting",
    "intention",
    "intent",
    "intend",
    "plan",
    "plans",
    "planning",
    "active",
    "actively",
    "anymore",
    "longer",
    "do",
    "does",
    "did",
    "really",
    "particularly",
    "genuinely",
    "or",
    "and",
    "nor",
    ",",
    "fever",
    "cough",
    "temperature",
    "rash",
    "headache",
    "vomiting",
    "nausea",
    "dizziness",
    "sickness",
    "diarrhoea",
    "pain",
    "breathlessness",
    "palpitations",
    "swelling",
    "bleeding",
    "would",
    "ever",
    "currently",
    "having",
    "he",
    "she",
    "they",
    "he's",
    "she's",
    "him",
    "them",
    "like",
    "recent",
    "recently",
    "since",
    "this",
    "time",
    "anything",
    "other",
    "feelings",
    "lip",
    "lips",
    "tongue",
    "throat",
    "mouth",
    "face",
    "talk",
    "mention",
    "infection",
    "infections",
];

/// Tokens that end the reach of a negation or of a time cue.
const CLAUSE_BREAKS: &[&str] =
    &[".", "but", "however", "although", "though", "except", "whereas", "yet", "apart"];

/// "not sure", "no idea": negation words that do not negate a symptom.
const PSEUDO_NEGATIONS: &[(&str, &str)] = &[
    ("not", "sure"),
    ("not", "certain"),
    ("no", "idea"),
    ("not", "only"),
    ("not", "just"),
    ("no", "doubt"),
    ("don't", "know"),
    ("didn't", "know"),
    ("not", "getting"),
    ("no", "better"),
    ("not", "improving"),
    ("not", "better"),
    ("won't", "stop"),
    ("isn't", "stopping"),
    ("not", "stopping"),
    ("hasn't", "stopped"),
];

/// Past-history cues: a match in the same clause is history unless a
/// current cue is there too.
const PAST_CUES: &str = r"(?x)
    \b(\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|few|several|many|couple\ of|some)\ (years?|yrs?|months?|decades?|weeks?)\ ago\b
  | \b(last|the\ previous)\ (year|summer|winter|spring|autumn|christmas|easter|month)\b | \bturned\ out\ to\ be\b
  | \byears\ (ago|back)\b | \bmonths\ back\b
  | \bin\ (19|20)\d\d\b | \bback\ in\b
  | \bas\ a\ (child|teenager|teen|kid|baby|student)\b
  | \bwhen\ i\ was\ (younger|little|a\ child|a\ teenager|a\ teen|a\ kid|at\ school|at\ uni|in\ my\ (teens|twenties))\b
  | \bhistory\ of\b | \bin\ the\ past\b | \bused\ to\b | \bpreviously\b | \bprevious\b | \bpast\ history\b
  | \blong\ time\ ago\b | \bages\ ago\b
  | \b(was|were|got|been|all|now|fully)\ (sorted|resolved|treated|fixed)\b | \bsorted\ now\b
  | \b(resolved|cleared\ up|all\ fine\ now|fine\ now|okay\ now|ok\ now|better\ now|no\ problems\ since|no\ issues\ since|went\ away|settled\ down|recovered\ well|fully\ recovered)\b
  | \b(completely|fully|now|has|have|all)\ settled\b | \bback\ to\ (himself|herself|themselves|myself|his\ usual|her\ usual)\b
  | \bwhen\ i\ was\ (\d+|young|a\ teen\w*)\b | \bfrom\ (my|his|her)\ (teens|teenage\ years|twenties|childhood|school\ days)\b | \bin\ my\ (early\ |mid\ |late\ )?(teens|twenties|thirties|20s|30s)\b
  | \bin\ my\ (first|last|previous|other|earlier)\ pregnancy\b | \bwhen\ i\ was\ pregnant\ (with|before)\b
  | \blast\ (monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b | \b(it's|it\ has|has|have)\ all\ passed\b
  | \b(had|have\ had)\ (a|an)\ \w+\ in\ (january|february|march|april|may|june|july|august|september|october|november|december)\b
  | \bdischarged\ from\ (hospital|a&e|the\ ward|the\ hospital)\b
  | \bfamily\ history\b | \bruns\ in\ (the|my|our)\ family\b | \b(hereditary|genetic\ risk)\b
  | \b(died|passed\ away)\b
";

/// Someone else's past event ("my dad had a stroke"): history unless there
/// is a current or ongoing cue.
const THIRD_PARTY_PAST: &str = r"(?x)
    \b(my|our)\ (dad|father|mum|mother|mom|grandad|granddad|grandpa|grandma|nan|nana|gran|granny|grandfather|grandmother|uncle|aunt|auntie|cousin|brother|sister|friend|neighbour|colleague|boss|ex)\b[^.]{0,25}\b(had|suffered|survived|was\ diagnosed)\b
";

/// Cues that the matched event is happening now.
const CURRENT_CUES: &str = r"(?x)
    \b(today|tonight|right\ now|at\ the\ moment|currently|again|still|just\ now|this\ (morning|afternoon|evening|week))\b
  | \b(last\ night|yesterday|overnight|since\ (yesterday|last\ night|last\ week|last\ month|this\ morning|lunch|lunchtime|breakfast|\d+|an\ hour|the\ weekend))\b
  | \b(\d+|an|a\ few|few|couple\ of|half\ an|ten|twenty|thirty|two|three|four|five)\ (hours?|minutes|seconds)\ ago\b
  | \b(is|it's|has\ come|have\ come|came|come|coming)\ back\b | \bkeeps?\ (happening|coming\ back)\b
  | \bstarted\b | \bjust\ (had|happened|started)\b
  | \bnow\ (he|she|it|i|i'm|i've|he's|she's|it's|my|his|her|have|has|got|having)\b
";

/// Phrases containing a current cue word that do not mean the event is now.
const NOT_CURRENT: &str =
    r"\b(pregnant again|back to normal|back at work|back to work|started (on|taking) (the|my|a|new))\b";

/// Cues of something happening now or continuing (override someone else's past).
const ONGOING_CUES: &str =
    r"\b(hasn't|has not|isn't|is not|won't|will not|can't|still|not breathing|not responding|keeps?)\b";

/// Hypotheticals, questions about information, leaflets.
const HYPOTHETICAL_CUES: &str = r"(?x)
    \bif\ (i|you|he|she|they|we|my\ \w+|someone|somebody|a\ person|the\ patient)\ (ever\ )?(get|gets|got|have|has|had|develop|develops|notice|notices|experience|experiences|start|starts|feel|feels|become|becomes|were\ to|was\ to|goes|go)\b
  | \bin\ case\b | \bwhat\ (should|do|would|can|shall)\ (i|we|he|she|you)\ do\ if\b
  | \bwhat\ (are|is)\ the\ (signs|symptoms|warning\ signs|risks?)\b | \bwhat\ (symptoms|signs)\b | \bwhat\ temp\w*\b
  | \b(leaflet|insert|information\ sheet|packet|box)\ (says|said|mentions|warns|lists)\b | \bpatient\ (leaflet|information)\b
  | \bside\ effects?\ (list|include|includes|including|such\ as|like|says|mention|mentions)\b
  | \b(a|an)\ (known\ )?(side\ effect|symptom|sign|warning\ sign)\ of\b
  | \bwhat\ the\ (signs|symptoms|warning\ signs)\b | \bdoing\ (my|a|the)\ training\b
  | \b(watch|look)\ out\ for\b | \bwarning\ signs\b
  | \b(told|advised|warned|said)\ (me\ |us\ |him\ |her\ )?(to\ )?(call|ring|phone|go\ to|seek|dial|contact)\b[^.]{0,30}\bif\b
  | \b(risk|risks|chance|chances)\ of\b | \bis\ (there\ )?(a|any)\ risk\b | \b(a|any)\ risk\ (after|with|from|of)\b
  | \bworried\ (that\ )?(i|he|she|they)\ (might|could|may|will)\ (get|develop)\b
  | \b(will|would|could|can|might|does|do)\ (this|it|that|these|they|the\ \w+)\ (cause|give\ me|lead\ to|increase)\b
  | \b(prevent|avoid|reduce\ (my|the|his|her)\ risk\ of)\b
  | \b(can|could|may|might)\ be\ (a\ )?(sign|symptom)s?\ of\b
  | \b(read|reading|heard|saw|seen|watched)\ (about|that|an\ article|online|on\ the\ news|a\ programme|a\ documentary)\b
  | \b(first\ aid|training\ course|exam|essay|assignment|homework)\b
  | \b(form|questionnaire|application)\ (asks|asking|asked)\ (about|if|whether)\b
";

/// Already assessed and reassured ("A&E did an ECG and said it was
/// muscular"): with [`WELL_NOW`] and without [`WORSENING`], the message
/// reports a past, assessed episode.
const REASSURED: &str = r"(?x)
    \b(a&e|a\ and\ e|hospital|111|paramedics?|ambulance\ crew|doctor|gp|out\ of\ hours|ecg|bloods|scan|tests?|x\ ?ray|ct)\b[^.]{0,80}
    \b(said|told|showed|were|was|came\ back|found|confirmed)\b[^.]{0,40}
    \b(muscular|fine|normal|reflux|heartburn|all\ clear|nothing\ (serious|wrong|to\ worry\ about)|no\ clot|not\ (my|his|her|the)\ heart|anxiety|a\ panic\ attack|viral)\b
  | \b(tests?|bloods|ecg|scan|x\ ?ray)\ (were\ |was\ |all\ |came\ back\ )*(normal|clear|fine)\b
  | \b(went\ to|seen\ in|taken\ to|discharged\ from|treated\ in|treated\ at|sent\ home\ from)\ (a&e|a\ and\ e|hospital|the\ hospital|urgent\ care)\b
";

/// Now well ("feeling fine now", "the pain has gone").
const WELL_NOW: &str = r"\b(feeling (fine|better|ok|okay|well|much better)|(pain|it) (has )?(gone|settled|eased)|fine now|better now|breathing (is )?fine( now)?|back to normal|all good now)\b";

/// Still unwell or worse again: the reassurance does not cover it.
const WORSENING: &str = r"\b(worse|worsening|again|came back|come back|coming back|still (have|got|having|getting|in pain)|new (pain|symptoms?)|but (now|today|tonight|this))\b";

/// Compiled context checks.
pub(crate) struct ContextChecks {
    past: Regex,
    third_party_past: Regex,
    current: Regex,
    ongoing: Regex,
    hypothetical: Regex,
    not_current: Regex,
    reassured: Regex,
    well_now: Regex,
    worsening: Regex,
}

fn compile(src: &str, what: &'static str) -> Result<Regex, RedFlagError> {
    super::compile(what, src)
}

/// Byte range in the normalised text of tokens `from..=to`.
fn span_text(n: &Normalised, from: usize, to: usize) -> &str {
    match (n.tokens.get(from), n.tokens.get(to)) {
        (Some(a), Some(b)) if a.norm.0 <= b.norm.1 => &n.text[a.norm.0..b.norm.1],
        _ => "",
    }
}

fn is_break(t: &Token, breaks: &[&str]) -> bool {
    breaks.contains(&t.text.as_str())
}

/// Token range of the clause around tokens `first..=last`, bounded by
/// `breaks`.
fn clause(n: &Normalised, first: usize, last: usize, breaks: &[&str]) -> (usize, usize) {
    let mut start = first;
    while start > 0 && !is_break(&n.tokens[start - 1], breaks) {
        start -= 1;
    }
    let mut end = last;
    while end + 1 < n.tokens.len() && !is_break(&n.tokens[end + 1], breaks) {
        end += 1;
    }
    (start, end)
}

impl ContextChecks {
    pub(crate) fn new() -> Result<Self, RedFlagError> {
        Ok(ContextChecks {
            past: compile(PAST_CUES, "past history cues")?,
            third_party_past: compile(THIRD_PARTY_PAST, "third-party cues")?,
            current: compile(CURRENT_CUES, "current cues")?,
            ongoing: compile(ONGOING_CUES, "ongoing cues")?,
            hypothetical: compile(HYPOTHETICAL_CUES, "hypothetical cues")?,
            not_current: compile(NOT_CURRENT, "not-current phrases")?,
            reassured: compile(REASSURED, "reassurance cues")?,
            well_now: compile(WELL_NOW, "well-now cues")?,
            worsening: compile(WORSENING, "worsening cues")?,
        })
    }

    /// True if a negation governs the match at tokens `first..=last`.
    pub(crate) fn is_negated(&self, n: &Normalised, first: usize, last: usize) -> bool {
        let sentence = span_text(n, clause(n, first, last, &["."]).0, clause(n, first, last, &["."]).1);
        let mut fillers = 0;
        let mut i = first;
        while i > 0 {
            i -= 1;
            let tok = n.tokens[i].text.as_str();
            if CLAUSE_BREAKS.contains(&tok) {
                break;
            }
            if NEGATION_CUES.contains(&tok) {
                let next = n.tokens.get(i + 1).map(|t| t.text.as_str()).unwrap_or("");
                if PSEUDO_NEGATIONS.iter().any(|(a, b)| *a == tok && *b == next) {
                    break;
                }
                // "never had pain like this before" reports something new.
                if tok == "never"
                    && [" like this", " this bad", " so bad", " before", " like it"]
                        .iter()
                        .any(|c| sentence.contains(c))
                {
                    break;
                }
                return true;
            }
            if FILLER.contains(&tok) {
                fillers += 1;
                if fillers > 8 {
                    break;
                }
                continue;
            }
            break;
        }
        // "chest pain: none", "suicidal thoughts - no".
        let after: Vec<&str> = n.tokens.iter().skip(last + 1).take(3).map(|t| t.text.as_str()).collect();
        matches!(after.as_slice(), [",", "none" | "nil" | "no" | "denied" | "negative", ..])
            || matches!(after.as_slice(), ["none" | "nil" | "denied", ..])
    }

    /// True if the match is past history (own or someone else's).
    pub(crate) fn is_history(&self, n: &Normalised, first: usize, last: usize) -> bool {
        let (start, end) = clause(n, first, last, CLAUSE_BREAKS);
        let text = span_text(n, start, end);
        let text = text.as_bytes();
        let masked = self.not_current.replace_all(text, &b" "[..]);
        let current = self.current.is_match(&masked);
        if self.past.is_match(text) && !current {
            return true;
        }
        self.third_party_past.is_match(text) && !current && !self.ongoing.is_match(text)
    }

    /// True if the match sits in a hypothetical or informational phrase.
    pub(crate) fn is_hypothetical(&self, n: &Normalised, first: usize, last: usize) -> bool {
        let (start, end) = clause(n, first, last, &[".", ",", "but", "however", "although", "though"]);
        self.hypothetical.is_match(span_text(n, start, end).as_bytes())
    }

    /// True if `sentence` (normalised) reports an episode already assessed
    /// and reassured, and the message says the person is well now with
    /// nothing worse or new.
    pub(crate) fn is_reassured(&self, sentence: &str, n: &Normalised) -> bool {
        let text = n.text.as_bytes();
        self.reassured.is_match(sentence.as_bytes())
            && self.well_now.is_match(text)
            && !self.worsening.is_match(text)
    }

    /// Normalised text of the sentence around the match.
    pub(crate) fn sentence<'n>(&self, n: &'n Normalised, first: usize, last: usize) -> &'n str {
        let (start, end) = clause(n, first, last, &["."]);
        span_text(n, start, end)
    }
}
