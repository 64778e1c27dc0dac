//! The inbox: the clinician's queues in triage order (urgent and breached
//! first). Refreshed from the shell every few seconds while open. Keys on
//! the list: j / k (or the arrows) move, Enter opens; Esc in a thread comes
//! back. a (or "My activity") lists the clinician's own recent events.
//! Chips above the list show one queue, what the clinician holds ("Mine"),
//! or urgent threads only; / searches the messages (the cache's full-text
//! index), patients' names, NHS numbers and dates of birth; Esc clears it.
//! "Lock now" (or Ctrl+L) returns the window to the lock page.
//! Closing or handing over a thread opens the next one in the list and
//! offers, for `sealbox_model::undo::UNDO_SECONDS`, to undo it (z).

use sealbox_model::api::{InboxRequest, InboxView, MyActivityView, SettingsView, ThreadView};
use sealbox_model::category::Category;
use sealbox_model::thread_state::StateKind;
use sealbox_model::undo::UNDO_SECONDS;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::ipc;
use crate::pages::audit::AuditList;
use crate::pages::inbox_list::{InboxList, WINDOW};
use crate::pages::settings::{apply_theme, SettingsPanel};
use crate::pages::thread::ThreadPane;
use crate::pages::workload::WorkloadPanel;

/// The keys, as `?` lists them.
const KEYS: &[(&str, &str)] = &[
    ("j / k or ↓ / ↑", "move through the list"),
    ("Enter", "open the thread"),
    ("/", "search messages, patients' names, NHS numbers and dates of birth"),
    ("c", "claim the thread"),
    ("r", "reply (Ctrl+Enter sends)"),
    ("e", "close (or reopen) the thread (then the next thread opens)"),
    ("a", "my activity (in the list)"),
    ("w", "workload: queues and colleagues, due today, breached (in the list)"),
    ("h", "hand the thread to a queue or a colleague (then the next thread opens)"),
    ("z", "undo the close or hand-over just done (for a few seconds)"),
    ("i", "write an internal note for colleagues (never sent to the patient)"),
    ("p", "set the thread's priority and category"),
    ("n", "show what the patient wrote since the thread was opened"),
    ("s", "settings (in a thread, where a record system is set up: save it to the patient's record)"),
    ("?", "this list"),
    ("Esc", "back"),
    ("Ctrl+L", "lock now"),
];

const REFRESH_MS: i32 = 5_000;

/// What was just done and can be undone for a few seconds: its thread and
/// what to say ("Thread closed.").
#[derive(Clone, PartialEq)]
struct UndoOffer {
    thread: String,
    said: &'static str,
}

/// The queue chips: a pool key (or "mine"; none for every queue) and label.
const QUEUES: &[(Option<&str>, &str)] = &[
    (None, "All queues"),
    (Some("gp"), "GPs"),
    (Some("nurse"), "Nurses"),
    (Some("pharmacy"), "Pharmacists"),
    (Some("admin"), "Care navigators"),
    (Some("mine"), "Mine"),
];

/// An edit of the inbox's filter (a chip pressed, a select changed, a search typed).
type Change = Box<dyn FnOnce(&mut InboxRequest)>;

#[derive(Properties, PartialEq)]
pub struct InboxProps {
    pub view: InboxView,
}

/// A chip that turns one filter on and off (`aria-pressed` says which).
fn toggle_chip(id: &'static str, label: &'static str, on: bool, toggle: Callback<MouseEvent>) -> Html {
    html! {
        <button type="button" {id} class={classes!("chip", on.then_some("on"))} aria-pressed={on.to_string()}
            onclick={toggle}>{ label }</button>
    }
}

/// A filter's select: "every" (no key) or one key; `pick` gets the choice.
/// Keys typed on it stay there (they are not the list's shortcuts).
fn key_select(
    id: &'static str,
    label: &'static str,
    every: &'static str,
    keys: &[&'static str],
    selected: Option<&str>,
    pick: Callback<Option<String>>,
) -> Html {
    let onchange = Callback::from(move |e: Event| {
        if let Some(s) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
            pick.emit((!s.value().is_empty()).then(|| s.value()));
        }
    });
    html! {
        <select {id} aria-label={label} {onchange} onkeydown={Callback::from(|e: KeyboardEvent| e.stop_propagation())}>
            <option value="" selected={selected.is_none()}>{ every }</option>
            { for keys.iter().map(|k| html! {
                <option value={*k} selected={selected == Some(*k)}>{ k.replace('_', " ") }</option>
            }) }
        </select>
    }
}

#[function_component(InboxPage)]
pub fn inbox_page(props: &InboxProps) -> Html {
    let view = use_state(|| props.view.clone());
    let failed = use_state(|| None::<String>);
    // Which queue is shown; read by the refresh timer, so kept in a cell.
    let filter = use_mut_ref(InboxRequest::default);
    let shown_filter = use_state(InboxRequest::default);
    // Every request is numbered; only the newest one's answer is shown. The
    // shell answers concurrently, so an older query (the list before a chip
    // was pressed, or a timer's tick) can come back after a newer one.
    let asked = use_mut_ref(|| 0u64);
    let refresh = {
        let (view, failed, filter) = (view.clone(), failed.clone(), filter.clone());
        Callback::from(move |()| {
            let (view, failed, asked) = (view.clone(), failed.clone(), asked.clone());
            let request = filter.borrow().clone();
            let number = {
                let mut n = asked.borrow_mut();
                *n += 1;
                *n
            };
            wasm_bindgen_futures::spawn_local(async move {
                let answer = ipc::inbox_of(request).await;
                if *asked.borrow() != number {
                    return; // a newer request is out: its answer is the one to show
                }
                match answer {
                    Ok(v) => {
                        view.set(v);
                        failed.set(None);
                    }
                    Err(e) => failed.set(Some(e.to_string())),
                }
            });
        })
    };
    let selected = use_state(|| 0u32);
    let choose = {
        let (filter, shown_filter, refresh) = (filter.clone(), shown_filter.clone(), refresh.clone());
        let selected = selected.clone();
        // `change` edits the filter last chosen, not the one the page last
        // drew: two clicks before a redraw both count.
        Callback::from(move |change: Change| {
            // Another list: from its top.
            selected.set(0);
            let mut request = filter.borrow().clone();
            change(&mut request);
            let request = InboxRequest { offset: 0, limit: WINDOW, ..request };
            *filter.borrow_mut() = request.clone();
            shown_filter.set(request);
            refresh.emit(());
        })
    };
    {
        let refresh = refresh.clone();
        use_effect_with((), move |_| {
            let tick = Closure::<dyn Fn()>::new(move || refresh.emit(()));
            let window = web_sys::window();
            let id = window.as_ref().and_then(|w| {
                w.set_interval_with_callback_and_timeout_and_arguments_0(
                    tick.as_ref().unchecked_ref(),
                    REFRESH_MS,
                )
                .ok()
            });
            move || {
                if let (Some(w), Some(id)) = (window, id) {
                    w.clear_interval_with_handle(id);
                }
                drop(tick);
            }
        });
    }
    let on_lock = Callback::from(|_: MouseEvent| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = ipc::lock_now().await;
        });
    });
    let open = use_state(|| None::<ThreadView>);
    let list = use_node_ref();
    let open_thread = {
        let (open, failed) = (open.clone(), failed.clone());
        Callback::from(move |thread: String| {
            let (open, failed) = (open.clone(), failed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::open_thread(thread).await {
                    Ok(v) => open.set(Some(v)),
                    Err(e) => failed.set(Some(e.to_string())),
                }
            });
        })
    };
    let mine = use_state(|| None::<MyActivityView>);
    let workload = use_state(|| false);
    let settings = use_state(|| None::<SettingsView>);
    let help = use_state(|| false);
    use_effect_with((), |_| {
        // The clinician's theme, once unlocked.
        wasm_bindgen_futures::spawn_local(async {
            if let Ok(s) = ipc::settings().await {
                apply_theme(&s.settings.theme);
            }
        });
    });
    let show_settings = {
        let (settings, failed) = (settings.clone(), failed.clone());
        Callback::from(move |()| {
            let (settings, failed) = (settings.clone(), failed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::settings().await {
                    Ok(s) => settings.set(Some(s)),
                    Err(e) => failed.set(Some(e.to_string())),
                }
            });
        })
    };
    let mine_panel = use_node_ref();
    {
        let list = list.clone();
        use_effect_with(
            open.is_none() && mine.is_none() && settings.is_none() && !*workload,
            move |showing_list| {
                if *showing_list {
                    if let Some(el) = list.cast::<web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                }
            },
        );
    }
    {
        let panel = mine_panel.clone();
        use_effect_with(mine.is_some(), move |shown| {
            if *shown {
                if let Some(el) = panel.cast::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        });
    }
    let show_mine = {
        let (mine, failed) = (mine.clone(), failed.clone());
        Callback::from(move |()| {
            let (mine, failed) = (mine.clone(), failed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::my_activity().await {
                    Ok(a) => mine.set(Some(a)),
                    Err(e) => failed.set(Some(e.to_string())),
                }
            });
        })
    };
    // The header's buttons leave an open thread (its draft is kept) for
    // the panel asked for, which would otherwise wait behind it.
    let on_mine = {
        let (show_mine, open) = (show_mine.clone(), open.clone());
        Callback::from(move |_: MouseEvent| {
            open.set(None);
            show_mine.emit(());
        })
    };
    let on_mine_key = {
        let mine = mine.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                mine.set(None);
            }
        })
    };
    let on_mine_back = {
        let mine = mine.clone();
        Callback::from(move |_: MouseEvent| mine.set(None))
    };
    let search_box = use_node_ref();
    let on_key = {
        let (selected, view, open_thread) = (selected.clone(), view.clone(), open_thread.clone());
        let (show_mine, search_box) = (show_mine.clone(), search_box.clone());
        let (show_settings, help, workload) = (show_settings.clone(), help.clone(), workload.clone());
        Callback::from(move |e: KeyboardEvent| {
            let last = view.total.saturating_sub(1);
            match e.key().as_str() {
                "j" | "ArrowDown" => selected.set((*selected + 1).min(last)),
                "k" | "ArrowUp" => selected.set(selected.saturating_sub(1)),
                "Enter" => {
                    let at = selected.checked_sub(view.offset).and_then(|i| usize::try_from(i).ok());
                    if let Some(row) = at.and_then(|i| view.rows.get(i)) {
                        open_thread.emit(row.thread.clone());
                    }
                }
                "a" => show_mine.emit(()),
                "w" => workload.set(true),
                "s" => show_settings.emit(()),
                "?" => help.set(!*help),
                "Escape" if *help => help.set(false),
                "/" => {
                    if let Some(el) = search_box.cast::<web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                }
                _ => return,
            }
            e.prevent_default();
        })
    };
    let on_search = {
        let choose = choose.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                let text = input.value();
                let search = (!text.trim().is_empty()).then_some(text);
                choose.emit(Box::new(|f| f.search = search));
            }
        })
    };
    let on_search_key = {
        let (choose, list) = (choose.clone(), list.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => {
                e.prevent_default();
                choose.emit(Box::new(|f| f.search = None));
                if let Some(el) = list.cast::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
            "Enter" | "ArrowDown" => {
                e.prevent_default();
                if let Some(el) = list.cast::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
            _ => {}
        })
    };
    let on_close = {
        let open = open.clone();
        Callback::from(move |()| open.set(None))
    };
    let on_claimed = {
        let open = open.clone();
        Callback::from(move |v: ThreadView| open.set(Some(v)))
    };
    // The offer to undo the last close or hand-over, withdrawn after the
    // shell's window (the shell refuses a late undo in any case).
    let undo_offer = use_state(|| None::<UndoOffer>);
    {
        let undo_offer = undo_offer.clone();
        use_effect_with((*undo_offer).clone(), move |offer| {
            let window = web_sys::window();
            let tick = Closure::<dyn Fn()>::new(move || undo_offer.set(None));
            let id = offer.as_ref().and(window.as_ref()).and_then(|w| {
                let ms = i32::try_from(UNDO_SECONDS * 1_000).unwrap_or(i32::MAX);
                w.set_timeout_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), ms)
                    .ok()
            });
            move || {
                if let (Some(w), Some(id)) = (window, id) {
                    w.clear_timeout_with_handle(id);
                }
                drop(tick);
            }
        });
    }
    let on_done = {
        let (open, open_thread, selected, view) =
            (open.clone(), open_thread.clone(), selected.clone(), view.clone());
        let (undo_offer, refresh) = (undo_offer.clone(), refresh.clone());
        Callback::from(move |(done, said): (ThreadView, &'static str)| {
            undo_offer.set(Some(UndoOffer { thread: done.thread.clone(), said }));
            // The next thread in the list as shown (the one after it, else
            // the one before), or back to the list.
            let at = view.rows.iter().position(|r| r.thread == done.thread);
            let next = at.and_then(|i| {
                view.rows
                    .get(i + 1)
                    .map(|r| (i + 1, r))
                    .or_else(|| i.checked_sub(1).and_then(|j| view.rows.get(j).map(|r| (j, r))))
            });
            match next {
                Some((i, row)) => {
                    selected.set(view.offset + u32::try_from(i).unwrap_or(0));
                    open_thread.emit(row.thread.clone());
                }
                None => open.set(None),
            }
            refresh.emit(());
        })
    };
    let undo = {
        let (open, failed, undo_offer, refresh) =
            (open.clone(), failed.clone(), undo_offer.clone(), refresh.clone());
        Callback::from(move |()| {
            if undo_offer.is_none() {
                return;
            }
            let (open, failed, undo_offer, refresh) =
                (open.clone(), failed.clone(), undo_offer.clone(), refresh.clone());
            wasm_bindgen_futures::spawn_local(async move {
                undo_offer.set(None);
                match ipc::undo().await {
                    Ok(v) => {
                        failed.set(None);
                        open.set(Some(v));
                    }
                    Err(e) => failed.set(Some(e.to_string())),
                }
                refresh.emit(());
            });
        })
    };
    // z undoes from the list or the thread; never while typing in a field.
    let on_page_key = {
        let undo = undo.clone();
        Callback::from(move |e: KeyboardEvent| {
            let typing = e.target_dyn_into::<web_sys::HtmlInputElement>().is_some()
                || e.target_dyn_into::<web_sys::HtmlTextAreaElement>().is_some()
                || e.target_dyn_into::<web_sys::HtmlSelectElement>().is_some();
            if e.key() == "z" && !e.ctrl_key() && !e.meta_key() && !typing {
                e.prevent_default();
                undo.emit(());
            }
        })
    };
    {
        // The list's selection follows the open thread as rows come and go.
        let (selected, open) = (selected.clone(), open.clone());
        use_effect_with(((*view).clone(), open.as_ref().map(|t| t.thread.clone())), move |(v, thread)| {
            let at = thread.as_ref().and_then(|t| v.rows.iter().position(|r| &r.thread == t));
            if let Some(i) = at.and_then(|i| u32::try_from(i).ok()) {
                if *selected != v.offset + i {
                    selected.set(v.offset + i);
                }
            }
        });
    }
    let on_open_row = {
        let (open_thread, selected) = (open_thread.clone(), selected.clone());
        Callback::from(move |(i, thread): (u32, String)| {
            selected.set(i);
            open_thread.emit(thread);
        })
    };
    let on_need = {
        let (filter, refresh) = (filter.clone(), refresh.clone());
        Callback::from(move |offset: u32| {
            let changed = {
                let mut f = filter.borrow_mut();
                let changed = f.offset != offset || f.limit != WINDOW;
                f.offset = offset;
                f.limit = WINDOW;
                changed
            };
            if changed {
                refresh.emit(());
            }
        })
    };
    html! {
        <div class="inbox-page" onkeydown={on_page_key}>
            <header class="bar">
                <span class="brand">{ "Sealbox" }</span>
                <span id="clinician" class="who">{ &view.clinician }</span>
                <span id="sync-state" class="sync" data-online={view.online.to_string()}>
                    { if view.online { "Online" } else { "Offline — verified on this device" } }
                </span>
                <button id="my-activity-button" type="button" onclick={on_mine} title="My activity (a)">{ "My activity" }</button>
                <button id="workload-button" type="button" title="Workload (w)"
                    onclick={ let (workload, open) = (workload.clone(), open.clone()); Callback::from(move |_: MouseEvent| { open.set(None); workload.set(true) }) }>{ "Workload" }</button>
                <button id="settings-button" type="button" title="Settings (s)"
                    onclick={ let (show, open) = (show_settings.clone(), open.clone()); Callback::from(move |_: MouseEvent| { open.set(None); show.emit(()) }) }>{ "Settings" }</button>
                <button id="lock-now" type="button" onclick={on_lock} title="Lock now (Ctrl+L)">{ "Lock now" }</button>
            </header>
            if let Some(notice) = &view.notice {
                <p id="notice" class="status" data-state="warning" role="alert">{ notice }</p>
            }
            <main aria-labelledby="inbox-title">
                <h1 id="inbox-title">
                    { format!("Inbox · {} threads", view.total) }
                    if view.urgent > 0 { <span id="urgent-count" class="badge urgent">{ format!("{} urgent", view.urgent) }</span> }
                    if view.breached > 0 { <span id="breached-count" class="badge breached">{ format!("{} breached", view.breached) }</span> }
                </h1>
                <nav class="queues" aria-label="Queues">
                    { for QUEUES.iter().map(|(key, label)| {
                        let current = shown_filter.queue.as_deref() == *key;
                        let onclick = {
                            let choose = choose.clone();
                            let queue = key.map(str::to_owned);
                            Callback::from(move |_: MouseEvent| {
                                let queue = queue.clone();
                                choose.emit(Box::new(move |f| f.queue = queue))
                            })
                        };
                        // The queue's open threads (and urgent and breached ones), counted by the cache.
                        let count = key.and_then(|k| view.queues.iter().find(|q| q.pool == k)).map(|q| {
                            let of: Vec<String> = [(q.urgent, "urgent"), (q.breached, "breached")]
                                .iter()
                                .filter(|(n, _)| *n > 0)
                                .map(|(n, what)| format!("{n} {what}"))
                                .collect();
                            if of.is_empty() { format!(" {}", q.open) } else { format!(" {} ({})", q.open, of.join(", ")) }
                        });
                        html! {
                            <button type="button" id={format!("queue-{}", key.unwrap_or("all"))}
                                class={classes!("chip", current.then_some("on"))}
                                aria-pressed={current.to_string()} {onclick}>
                                { *label }
                                if let Some(c) = count { <span class="count">{ c }</span> }
                            </button>
                        }
                    }) }
                    { toggle_chip("urgent-only", "Urgent only", shown_filter.urgent_only, {
                        let choose = choose.clone();
                        Callback::from(move |_| choose.emit(Box::new(|f| f.urgent_only = !f.urgent_only)))
                    }) }
                    { toggle_chip("unassigned", "Unassigned", shown_filter.unassigned, {
                        let choose = choose.clone();
                        Callback::from(move |_| choose.emit(Box::new(|f| f.unassigned = !f.unassigned)))
                    }) }
                    { key_select("category", "Category", "Every category", &Category::ALL.map(|c| c.key()),
                        shown_filter.category.as_deref(), {
                            let choose = choose.clone();
                            Callback::from(move |category| choose.emit(Box::new(|f| f.category = category)))
                        }) }
                    { key_select("state", "State", "Every open state", &StateKind::ALL.map(|s| s.key()),
                        shown_filter.state.as_deref(), {
                            let choose = choose.clone();
                            Callback::from(move |state| choose.emit(Box::new(|f| f.state = state)))
                        }) }
                    <input id="search" type="search" ref={search_box.clone()} value={shown_filter.search.clone().unwrap_or_default()}
                        placeholder="Search messages, names, NHS no., DOB (/)" aria-label="Search messages, patient names, NHS numbers and dates of birth"
                        oninput={on_search} onkeydown={on_search_key} />
                </nav>
                if let Some(offer) = &*undo_offer {
                    <div id="undo" class="undo" role="status" data-thread={offer.thread.clone()}>
                        <span>{ offer.said }</span>
                        <button id="undo-button" type="button"
                            onclick={ let undo = undo.clone(); Callback::from(move |_: MouseEvent| undo.emit(())) }>
                            { "Undo (z)" }
                        </button>
                    </div>
                }
                if let Some(e) = &*failed {
                    <p id="inbox-error" class="status" data-state="error" role="alert">
                        { format!("The inbox could not be refreshed: {e}") }
                    </p>
                }
                if let Some(t) = &*open {
                    <ThreadPane view={t.clone()} on_close={on_close} on_updated={on_claimed} on_done={on_done}
                        newer={!t.latest_received.is_empty()
                            && view.rows.iter().any(|r| r.thread == t.thread && r.received != t.latest_received)} />
                } else if let Some(s) = &*settings {
                    <SettingsPanel view={s.clone()} on_back={ let settings = settings.clone(); Callback::from(move |()| settings.set(None)) } />
                } else if *workload {
                    <WorkloadPanel on_back={ let workload = workload.clone(); Callback::from(move |()| workload.set(false)) } />
                } else if let Some(a) = &*mine {
                    <div class="mine" tabindex="0" ref={mine_panel} onkeydown={on_mine_key}>
                        <h2>{ "My activity" }</h2>
                        <AuditList id="sign-ins" title="Sign-ins" view={a.sign_ins.clone()} />
                        <AuditList id="my-activity" title="Your events" view={a.workstation.clone()} />
                        <button id="my-activity-back" type="button" onclick={on_mine_back}>{ "Back to inbox (Esc)" }</button>
                    </div>
                }
                <InboxList view={(*view).clone()} selected={*selected} on_open={on_open_row} on_need={on_need}
                    on_key={on_key} list={list.clone()} hidden={open.is_some() || mine.is_some() || settings.is_some() || *workload} />
            </main>
            if *help {
                <section id="help" class="help" role="dialog" aria-labelledby="help-title">
                    <h2 id="help-title">{ "Keys" }</h2>
                    <dl>{ for KEYS.iter().map(|(k, what)| html! { <><dt><kbd>{ *k }</kbd></dt><dd>{ *what }</dd></> }) }</dl>
                    <p class="meta">{ "? or Esc closes this list." }</p>
                </section>
            }
            <footer class="footer">
                <span id="sync-line" role="status">{ &view.sync }</span>
                <span class="keys">{ "j/k move · Enter open · / search · c claim · r reply · e close · z undo · s settings · ? all keys · Ctrl+L lock" }</span>
            </footer>
        </div>
    }
}
