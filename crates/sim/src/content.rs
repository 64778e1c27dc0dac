//! What simulated patients write: UK primary-care requests in their own words.
//!
//! Every text here is invented. The banks are small on purpose: the
//! generator combines them (medicine × phrasing × detail), so 2,000 messages
//! read as varied traffic without any real patient's words.

use sealbox_model::category::Category;

/// Common UK repeat medicines with strength and form, as patients name them.
pub const REPEAT_MEDICINES: &[&str] = &[
    "Atorvastatin 20mg tablets",
    "Amlodipine 5mg tablets",
    "Ramipril 5mg capsules",
    "Metformin 500mg tablets",
    "Levothyroxine 50 micrograms tablets",
    "Omeprazole 20mg gastro-resistant capsules",
    "Lansoprazole 30mg capsules",
    "Salbutamol 100 micrograms/dose inhaler",
    "Fostair 100/6 inhaler",
    "Sertraline 50mg tablets",
    "Citalopram 20mg tablets",
    "Bisoprolol 2.5mg tablets",
    "Simvastatin 40mg tablets",
    "Losartan 50mg tablets",
    "Amitriptyline 10mg tablets",
    "Co-codamol 30mg/500mg tablets",
    "Naproxen 500mg tablets",
    "Microgynon 30 tablets",
    "Mirtazapine 15mg tablets",
    "Furosemide 40mg tablets",
    "Apixaban 5mg tablets",
    "Gliclazide 80mg tablets",
    "Fluoxetine 20mg capsules",
    "Propranolol 40mg tablets",
    "Doxazosin 4mg tablets",
    "Tamsulosin 400 microgram capsules",
    "Folic acid 5mg tablets",
    "Colecalciferol 800 unit capsules",
    "Montelukast 10mg tablets",
    "Clopidogrel 75mg tablets",
];

const REPEAT_OPENERS: &[&str] = &[
    "Please could I order my repeat of",
    "Hi, I need a repeat prescription for",
    "Running low on",
    "Could you send my usual",
    "Can I have my repeat of",
    "I'm nearly out of",
];

const REPEAT_DETAILS: &[&str] = &[
    "to my usual pharmacy please.",
    "— I go on holiday on Saturday so sooner would help.",
    "please, same as last month.",
    "and could it go to Boots on the high street this time.",
    "thanks very much.",
    "I've got about 4 days left.",
];

const MED_QUESTIONS: &[&str] = &[
    "Since starting {med} I've had a dry cough most nights, is that the tablets?",
    "Can I take ibuprofen for my back while I'm on {med}?",
    "I keep forgetting my {med} in the morning, is it OK to take it at night instead?",
    "I've been feeling a bit dizzy when I stand up since the dose of {med} went up.",
    "Is it safe to have a glass of wine with {med}?",
    "The pharmacy gave me a different brand of {med} and the tablets look different, is that right?",
    "My ankles have been a bit swollen since I started {med}, should I be worried?",
];

const TEST_RESULT_QUESTIONS: &[&str] = &[
    "I had blood tests last Tuesday, are my results back yet?",
    "Could someone explain my cholesterol result? The app says 6.1.",
    "The nurse said my kidney test needed repeating, when should I book that?",
    "Have my thyroid results come through? I was told to ring after a week.",
    "I had a urine sample in on Monday for a water infection, any news?",
    "My HbA1c was checked last month, could I know the number please?",
];

const CLINICAL_QUESTIONS: &[&str] = &[
    "I've had a sore throat and a temperature for 3 days, do I need to be seen?",
    "My knee has been aching for a few weeks after running, what should I do?",
    "I've had a rash on my arm for a week, it's itchy but not spreading. Photo to follow.",
    "My little boy has had an ear ache since yesterday, he's eating and playing fine.",
    "I've been feeling low and not sleeping well for a month, could I talk to someone?",
    "My blood pressure reading at home was 150/95 this morning, is that too high?",
    "I've had a mild headache on and off this week, paracetamol helps.",
    "My eczema has flared up again, the cream isn't working as well.",
];

const FIT_NOTES: &[&str] = &[
    "I need a fit note to cover last week, I was off with my back.",
    "My fit note runs out on Friday, could it be extended for two weeks?",
    "Work have asked for a fit note with a phased return, is that possible?",
];

const APPOINTMENTS: &[&str] = &[
    "Can I book my annual asthma review please?",
    "I need to cancel my appointment on Thursday at 10:20.",
    "Could I have a telephone appointment rather than coming in?",
    "When is my next diabetes check due?",
    "Can I book a smear test, I got the letter.",
];

const LETTERS: &[&str] = &[
    "Could I have a copy of my hospital discharge letter?",
    "I need a letter for my housing application about my mobility.",
    "My insurer has asked for a letter confirming my diagnosis, how do I request it?",
];

const OTHER: &[&str] = &[
    "I've moved house, here is my new address for your records.",
    "Thank you to the nurse who saw me last week, she was lovely.",
    "My phone number has changed, please update it.",
];

/// Messages that must reach a clinician the same day. Each uses words the
/// red-flag rules recognise; the simulator marks them so tests can check
/// that the desktop flags them.
pub const RED_FLAGS: &[&str] = &[
    "I've had crushing chest pain for the last hour and it's going into my left arm.",
    "I can't stop thinking about ending my life and I have the tablets here.",
    "My 2 year old has a rash that doesn't fade under a glass and she's really floppy.",
    "I'm 30 weeks pregnant and bleeding heavily since this morning.",
    "I've been vomiting blood this morning and feel faint.",
    "Sudden worst headache of my life came on while I was at work an hour ago.",
    "My dad's face has dropped on one side and his speech is slurred since lunchtime.",
    "My lips and throat are swelling after eating nuts and it's hard to breathe.",
];

/// What a patient writes with a photo (a clinical question). None is a red
/// flag: a photo is for something a clinician wants to see, not an emergency.
pub const PHOTO_NOTES: &[&str] = &[
    "Photo attached of the dry patch on my elbow, it has been there a month and the cream has not helped.",
    "Here is a picture of the mole on my back my partner noticed, is it something to get checked?",
    "I've attached a photo of the red patch on my arm from the gardening, it itches at night.",
];

/// The photo the simulator attaches (a 160 × 120 PNG of a red patch on
/// skin, drawn for the simulator; no real patient).
pub const PHOTO_PNG: &[u8] = include_bytes!("../assets/rash-photo.png");

/// What a category's free text is drawn from; `{med}` is replaced by a
/// medicine name.
pub fn phrases(category: Category) -> &'static [&'static str] {
    match category {
        Category::RepeatPrescription => REPEAT_DETAILS,
        Category::MedicationQuestion => MED_QUESTIONS,
        Category::TestResults => TEST_RESULT_QUESTIONS,
        Category::ClinicalQuestion => CLINICAL_QUESTIONS,
        Category::AdminFitNote => FIT_NOTES,
        Category::AdminAppointment => APPOINTMENTS,
        Category::AdminLetters => LETTERS,
        Category::Other => OTHER,
    }
}

/// Openers of a repeat-prescription request.
pub fn repeat_openers() -> &'static [&'static str] {
    REPEAT_OPENERS
}
