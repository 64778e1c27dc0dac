// Loads the Yew app. A separate file because the CSP allows no inline script.
import init from './sealbox_ui.js';

init({ module_or_path: './sealbox_ui_bg.wasm' });
