// Loads the patient app. A separate file because the CSP allows no inline script.
import init from './sealbox_patient.js';

init({ module_or_path: './sealbox_patient_bg.wasm' });
