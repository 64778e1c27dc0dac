//! Sealbox's frontend. It knows the shell only through the typed commands of
//! sealbox-model (see `ipc`).

mod activity;
mod app;
mod ipc;
mod pages;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
