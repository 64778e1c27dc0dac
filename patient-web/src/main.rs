//! The patient's web app: served by the practice's hub at `/patient/`,
//! it joins with the practice's invite, keeps the channel's keys sealed
//! under the patient's passphrase in IndexedDB, and seals every message in
//! the browser to the practice's pools (`sealbox_crypto`), so the hub
//! relays what it cannot read.

mod app;
mod channel;
mod earlier;
mod hub;
mod idle;
mod pages;
mod photo;
mod vault;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
