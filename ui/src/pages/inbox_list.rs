//! The inbox list, virtual: every row has the same height, so the scroll
//! position says which rows are in view; only those (and a margin around
//! them) are in the DOM, and spacers above and below stand for the rest.
//! The shell sends a window of rows around the scroll position (the
//! cache's triage-ordered query with an offset), so 100,000 threads scroll
//! like 100. The selected row (j / k) is kept in view and is the table's
//! active descendant, so a screen reader announces each move. A row's
//! second line previews the patient's newest message; the selected row's
//! red flags are written out in full, wrapped, under the list. A "repeat"
//! badge marks a request linked as a repeat of the patient's open one, and
//! "+N open" how many other threads the patient has open.

use sealbox_model::api::InboxView;
use yew::prelude::*;

/// Each row's height in CSS pixels (style.css: `.inbox tr.row`).
pub const ROW_PX: u32 = 56;
/// Rows rendered beyond the visible ones, on each side.
const MARGIN: u32 = 60;
/// Rows asked of the shell at once.
pub const WINDOW: u32 = 240;

#[derive(Properties, PartialEq)]
pub struct ListProps {
    pub view: InboxView,
    /// The selected row's position in the whole list.
    pub selected: u32,
    /// A row was clicked: its position and thread.
    pub on_open: Callback<(u32, String)>,
    /// Rows from this position are needed.
    pub on_need: Callback<u32>,
    /// Keys on the list.
    pub on_key: Callback<KeyboardEvent>,
    /// The focusable table (for the page to focus).
    pub list: NodeRef,
    pub hidden: bool,
}

fn category_label(key: &str) -> String {
    key.replace('_', " ")
}

fn breach_label(key: &str) -> &'static str {
    match key {
        "breached" => "Breached",
        "due_soon" => "Due soon",
        _ => "On track",
    }
}

#[function_component(InboxList)]
pub fn inbox_list(props: &ListProps) -> Html {
    let v = &props.view;
    let scroller = use_node_ref();
    // (scroll top, viewport height) in pixels.
    let port = use_state(|| (0u32, 640u32));
    let on_scroll = {
        let (port, scroller) = (port.clone(), scroller.clone());
        Callback::from(move |_: Event| {
            if let Some(el) = scroller.cast::<web_sys::Element>() {
                let top = u32::try_from(el.scroll_top()).unwrap_or(0);
                let height = u32::try_from(el.client_height()).unwrap_or(640);
                if (top, height) != *port {
                    port.set((top, height));
                }
            }
        })
    };
    {
        // Keep the selected row in view.
        let (scroller, selected) = (scroller.clone(), props.selected);
        use_effect_with(selected, move |selected| {
            if let Some(el) = scroller.cast::<web_sys::Element>() {
                let (top, height) = (el.scroll_top(), el.client_height());
                // The sticky header covers the top of the view: rows start below it.
                let head = el.query_selector("thead").ok().flatten().map_or(0, |h| h.client_height());
                let row_top = i32::try_from(selected * ROW_PX).unwrap_or(i32::MAX);
                let row_px = i32::try_from(ROW_PX).unwrap_or(40);
                if row_top < top {
                    el.set_scroll_top(row_top);
                } else if head + row_top + row_px > top + height {
                    el.set_scroll_top(head + row_top + row_px - height);
                }
            }
        });
    }
    let (top, height) = *port;
    let first = top / ROW_PX;
    let start = first.saturating_sub(MARGIN);
    let end = (first + height / ROW_PX + 1 + MARGIN).min(v.total);
    let loaded_end = v.offset + u32::try_from(v.rows.len()).unwrap_or(0);
    {
        // Ask for the rows in view when the loaded window does not hold them.
        let need = props.on_need.clone();
        let missing = start < v.offset || end > loaded_end;
        let want = start.saturating_sub(WINDOW / 4);
        use_effect_with((missing, want, v.total), move |(missing, want, _)| {
            if *missing {
                need.emit(*want);
            }
        });
    }
    let shown_start = start.max(v.offset);
    let shown_end = end.min(loaded_end).max(shown_start);
    let spacer = |rows: u32, class: &'static str| {
        html! {
            <tr class={class} aria-hidden="true">
                <td colspan="8" style={format!("height: {}px; padding: 0; border: 0", rows * ROW_PX)}></td>
            </tr>
        }
    };
    let selected_row = props
        .selected
        .checked_sub(v.offset)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| v.rows.get(i));
    // The row is in the DOM (and can be the active descendant) when in the shown range.
    let active = (shown_start..shown_end).contains(&props.selected).then(|| row_id(props.selected));
    html! {
        <>
        <div class="inbox-scroll" ref={scroller} onscroll={on_scroll} hidden={props.hidden}>
            <table id="inbox" class="inbox" data-count={v.total.to_string()} tabindex="0" role="grid"
                ref={props.list.clone()} onkeydown={props.on_key.clone()}
                aria-activedescendant={active}
                aria-rowcount={(v.total + 1).to_string()}
                aria-label="Inbox: j and k move, Enter opens, ? lists every key">
                <thead>
                    <tr aria-rowindex="1"><th scope="col">{ "Priority" }</th><th scope="col">{ "Patient" }</th>
                        <th scope="col">{ "Category" }</th><th scope="col">{ "Queue" }</th>
                        <th scope="col">{ "Owner" }</th><th scope="col">{ "State" }</th>
                        <th scope="col">{ "Received" }</th><th scope="col">{ "Response due" }</th></tr>
                </thead>
                <tbody>
                    { spacer(shown_start, "spacer top") }
                    { for (shown_start..shown_end).filter_map(|i| {
                        let r = v.rows.get(usize::try_from(i - v.offset).ok()?)?;
                        let selected = i == props.selected;
                        let onclick = {
                            let (open, thread) = (props.on_open.clone(), r.thread.clone());
                            Callback::from(move |_: MouseEvent| open.emit((i, thread.clone())))
                        };
                        Some(html! {
                            <tr id={row_id(i)} class={classes!("row", selected.then_some("selected"))} {onclick}
                                aria-selected={selected.to_string()} aria-rowindex={(i + 2).to_string()}
                                data-thread={r.thread.clone()} data-priority={r.priority.clone()} data-pool={r.pool.clone()}>
                                <td>
                                    <span class={classes!("badge", r.priority.clone())}>{ &r.priority }</span>
                                    if !r.flags.is_empty() {
                                        <br /><span class="flags">{ r.flags.join("; ") }</span>
                                    }
                                </td>
                                <td><span class="patient">{ &r.patient }</span>
                                    <span class="meta age">{ format!(" · {}", r.age) }</span>
                                    if r.repeat {
                                        <span class="badge repeat" title="Repeats an open request of this patient">{ "repeat" }</span>
                                    }
                                    if r.others_open > 0 {
                                        <span class="meta others-open">{ format!(" · +{} open", r.others_open) }</span>
                                    }
                                    <br /><span class="preview">{ &r.preview }</span></td>
                                <td>{ category_label(&r.category) }</td>
                                <td>{ &r.pool }</td>
                                <td class="owner">{ if r.owner.is_empty() { "—" } else { r.owner.as_str() } }</td>
                                <td>{ r.state.replace('_', " ") }</td>
                                <td><time datetime={r.received.clone()}>{ &r.received_shown }</time></td>
                                <td class="due" data-breach={r.breach.clone()}>
                                    if !r.breach.is_empty() {
                                        <span class={classes!("badge", r.breach.clone())}>{ breach_label(&r.breach) }</span>
                                        { format!(" {}", r.due_shown) }
                                    }
                                </td>
                            </tr>
                        })
                    }) }
                    { spacer(v.total.saturating_sub(shown_end), "spacer bottom") }
                </tbody>
            </table>
        </div>
        // Always there (the list does not jump): the selected row's red
        // flags in full, wrapped, or nothing.
        <div id="selected-flags" class="flag-words" aria-live="polite" hidden={props.hidden}>
            if let Some(r) = selected_row.filter(|r| !r.flags.is_empty()) {
                <strong>{ "Red flags on the selected thread:" }</strong>
                <ul>{ for r.flags.iter().map(|f| html! { <li>{ f }</li> }) }</ul>
            }
        </div>
        </>
    }
}

/// The DOM id of the row at position `i` of the whole list.
fn row_id(i: u32) -> String {
    format!("row-{i}")
}
