use super::*;

/// One detector for every test here (building one compiles every pattern).
fn detector() -> &'static RedFlagDetector {
    static DETECTOR: std::sync::OnceLock<RedFlagDetector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(|| RedFlagDetector::new().unwrap())
}

fn labels(text: &str) -> Vec<String> {
    detector().assess(text).labels().iter().map(|s| s.to_string()).collect()
}

fn flagged(text: &str) -> bool {
    detector().assess(text).suggests_urgent()
}

#[test]
fn every_rule_compiles_has_a_source_and_a_unique_id() {
    let d = detector();
    assert_eq!(d.rules.len(), RULES.len());
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    for r in RULES {
        assert!(!r.source.is_empty() && !r.label.is_empty(), "{}", r.id);
    }
}

#[test]
fn every_rule_fires_on_a_plain_example() {
    let examples = [
        ("chest_pain", "I've got a crushing pain in my chest"),
        ("sudden_breathlessness", "I suddenly can't breathe properly"),
        ("stroke_signs", "Mum's face has dropped on one side and her speech is slurred"),
        ("suicidal_thoughts", "I keep thinking I want to end my life"),
        ("self_harm", "I've been cutting myself again"),
        ("overdose", "I took a whole packet of paracetamol an hour ago"),
        ("anaphylaxis", "After the peanut my throat is swelling up"),
        ("sepsis_signs", "His skin looks mottled and he is shivering uncontrollably"),
        ("heavy_bleeding", "I'm soaking through a pad every hour"),
        ("bleeding_in_pregnancy", "I'm 10 weeks pregnant and started bleeding"),
        ("abdominal_pain_in_pregnancy", "I'm 7 weeks pregnant with severe pain low on my right side"),
        ("non_blanching_rash", "My son has a rash that doesn't fade when I press a glass on it"),
        ("floppy_or_unresponsive", "The baby is floppy and not feeding"),
        ("gi_bleed", "I've been vomiting blood this morning"),
        ("coughing_blood", "I'm coughing up blood"),
        ("sudden_severe_headache", "Worst headache of my life, came on suddenly"),
        ("meningitis_signs", "She has a stiff neck and can't look at the light, and a fever"),
        ("cauda_equina", "My back pain is worse and I'm numb between my legs"),
        ("harming_others", "I keep having thoughts of hurting my baby"),
        ("prolonged_seizure", "He's been fitting for 6 minutes and it won't stop"),
        ("glycaemic_emergency", "His blood sugar was 2.1 and he's confused"),
        ("sudden_vision_loss", "I've suddenly lost the vision in my left eye"),
        ("sudden_confusion", "Grandad has become very confused today and doesn't know where he is"),
        ("fever_in_young_baby", "My 6 week old has a temperature of 38.2"),
        ("reduced_fetal_movements", "I'm 32 weeks and the baby hasn't moved since last night"),
        ("head_injury_on_anticoagulant", "Dad fell and hit his head, he takes warfarin"),
        ("overdose_plain_words", "I swallowed a load of paracetamol this morning"),
        ("child_ingestion", "My 2 year old swallowed a button battery"),
        ("suicidal_intent_indirect", "My brother left a note saying goodbye and has gone out"),
        ("domestic_abuse_danger", "My partner strangled me last night"),
        ("safeguarding_concern", "My 6 week old has a bruise on his cheek"),
        ("allergic_reaction_systemic", "Stung by a wasp and now I feel faint with hives"),
        ("immunosuppressed_fever", "I'm on chemo and have a temperature of 38.1"),
        ("infection_after_surgery_or_birth", "Had my gallbladder out 5 days ago and now a fever"),
        ("febrile_with_rigors_or_focus", "Water infection, shaking with a temp of 39"),
        ("pregnancy_warning_signs", "I'm 34 weeks and my vision is blurry"),
        ("pregnancy_other_urgent", "I'm 30 weeks pregnant and the baby is moving less"),
        ("early_pregnancy_pain", "Positive test last week, now sharp pain on my left side"),
        ("dka_signs", "Her breath smells of pear drops"),
        ("neuro_emergency_other", "Back pain and I can't feel the toilet paper when I wipe"),
        ("eye_emergency", "My eye is red and I see haloes round lights"),
        ("acute_abdomen", "My son has sudden severe pain in his testicle"),
        ("cardiorespiratory_other", "My calf is swollen and hot"),
        ("anticoagulant_bleeding", "On warfarin and my pee is bright red"),
        ("older_adult_acute_change", "Nan is 88 and much more confused since yesterday"),
        ("acute_psychosis", "He is talking to people who aren't there"),
        ("unwell_child_other", "My baby has a bulging fontanelle"),
        ("giant_cell_arteritis", "I'm 75 with a headache at my temple and my jaw aches when I chew"),
        ("febrile_infant", "My son is 7 weeks old. Tonight the thermometer said 38.4"),
        ("vascular_emergency", "Sudden tearing pain in my back going through to my chest"),
        ("airway_threat_infection", "My throat is so swollen I can't swallow my own saliva"),
        ("withdrawal_or_toxicity", "I'm on lithium and have been vomiting with a bad tremor"),
        ("sudden_hearing_loss_or_lens_keratitis", "I woke up suddenly deaf in my right ear"),
        ("endocrine_and_other_emergencies", "I have Addison's and couldn't keep my hydrocortisone down"),
        ("fever_with_high_risk_context", "Back from Ghana last week and now shivering with a fever"),
        (
            "spreading_skin_or_soft_tissue_infection",
            "The redness on my shin is spreading fast and I have a temperature",
        ),
        ("medicine_toxicity_or_dose_error", "By mistake I injected my lantus twice tonight, 40 units"),
        ("cardiac_warning_signs", "He blacked out while running for the bus, he has a heart condition"),
        ("respiratory_warning_signs", "Dad has covid and his oxygen sats are 89 now"),
        ("neuro_warning_signs", "She banged her head on the cupboard and has vomited three times"),
        ("surgical_urological_emergency", "Grandad can't pass urine since last night and is in agony"),
        ("injury_needing_same_day_care", "My ankle looks bent the wrong way after the tackle"),
        (
            "pregnancy_and_postnatal_other",
            "I'm 12 weeks pregnant, vomiting all day and can't keep any fluids down",
        ),
        ("sexual_health_and_assault", "The condom split last night, can I get emergency contraception today"),
        ("palliative_crisis", "Mum is in the hospice at home phase and her syringe driver has stopped"),
        (
            "acute_confusion_or_reduced_consciousness",
            "Dad is 81 and since this morning is muddled and seeing spiders on the walls",
        ),
        ("metabolic_emergency", "I'm type 2 and my sugar meter just says HI"),
        ("infant_red_features_extra", "Our 3 week old is throwing up after every feed, it's projectile"),
        ("suicidal_intent_other_words", "I've been saving up my tablets for a while now"),
        (
            "safeguarding_older_adult_or_sudden_illness",
            "I'm 40 and tired, with bruises appearing for no reason",
        ),
        ("child_red_features_extra", "My 2 year old has had no wet nappy since breakfast"),
        ("ingestion_or_foreign_body", "My toddler drank some screenwash from the garage"),
        ("blocked_catheter", "My catheter bag is empty and my belly hurts"),
        ("new_jaundice", "The whites of my eyes have gone yellow and my wee is dark"),
        ("severe_skin_or_allergic_reaction", "Started a new tablet and now my skin is peeling with a rash"),
        ("parkinsons_missed_doses", "He has Parkinson's and can't swallow his Sinemet this morning"),
        ("child_neglect", "The kids next door have been left alone for two days and say they're hungry"),
        ("head_injury_warning_signs", "He banged his head on the shelf and now he's drowsy"),
        (
            "suicide_risk_access_to_means",
            "He's been very low and hopeless lately and he keeps a shotgun in the barn",
        ),
        (
            "alcohol_or_sedative_withdrawal",
            "I'm stopping drinking today, I drink two bottles of wine a day and get the shakes",
        ),
        ("child_got_into_medicines_or_wild_food", "My 3 year old got into nan's tablets, a few are missing"),
        ("threat_of_violence_or_strangulation", "Last night my boyfriend put his hands round my neck"),
        ("acute_mania", "He hasn't slept for five nights, says he's invincible and is spending thousands"),
    ];
    let d = detector();
    for (id, text) in examples {
        let a = d.assess(text);
        assert!(a.flags.iter().any(|f| f.rule_id == id), "{id} did not fire on {text:?}: {:?}", a.labels());
    }
    let covered: Vec<&str> = examples.iter().map(|(id, _)| *id).collect();
    for r in RULES {
        assert!(covered.contains(&r.id), "no example for rule {}", r.id);
    }
}

#[test]
fn reports_the_words_that_matched() {
    let text = "Since this morning I have had TIGHT CHEST and feel sick";
    let a = detector().assess(text);
    assert_eq!(a.labels(), vec!["chest pain"]);
    let m = &a.flags[0].matches[0];
    assert_eq!(m.words.reveal(), "TIGHT CHEST");
    assert_eq!(&text[m.start..m.end], "TIGHT CHEST");
    assert_eq!(a.ruleset_version, RULESET_VERSION);
}

#[test]
fn negation_is_respected() {
    for text in [
        "No chest pain, just a cough",
        "I'm not suicidal, I just need a sick note",
        "Denies chest pain or shortness of breath",
        "I haven't had any thoughts of suicide",
        "I don't have any chest pain or tightness",
        "No longer feeling suicidal thanks to the new tablets",
        "Chest pain: none. Cough: yes.",
    ] {
        assert!(!flagged(text), "{text:?} flagged {:?}", labels(text));
    }
    // Negation does not reach past "but".
    assert!(flagged("No fever but my chest feels tight"));
    // "never had pain like this" is news, not a denial.
    assert!(flagged("I've never had chest pain like this before"));
    // Pseudo-negations do not hide a symptom.
    assert!(flagged("Not sure if it's serious but I have chest pain"));
}

#[test]
fn past_history_and_someone_elses_past_are_not_flags() {
    for text in [
        "I had chest pain last year, sorted now, just need my statin",
        "My dad had a stroke years ago and I'd like a carer's letter",
        "I used to self harm as a teenager but I'm well now",
        "History of overdose in 2015, now stable on sertraline",
        "My mum died of a heart attack so I'd like a cholesterol check",
    ] {
        assert!(!flagged(text), "{text:?} flagged {:?}", labels(text));
    }
    // A current cue wins over past history.
    assert!(flagged("I had chest pain last year and it came back this morning"));
    // A third party's current emergency is still flagged.
    assert!(flagged("My husband's face has dropped and his words are slurred"));
    assert!(flagged("My wife had a seizure and she hasn't come round"));
}

#[test]
fn figures_of_speech_and_lookalikes_are_not_flags() {
    for text in [
        "This form is killing me, can someone help",
        "Nearly had a heart attack when I saw the price of parking",
        "What a stroke of luck that the pharmacy had it in",
        "I need a fit note for work please",
        "My mum will have a fit when she sees my tattoo",
        "I'm dying to know my blood test results",
        "Can I have a repeat of my EpiPen, it expires next month",
        "I'm sick of waiting for my blood test results",
        "Could I have the meningitis vaccine before uni?",
    ] {
        assert!(!flagged(text), "{text:?} flagged {:?}", labels(text));
    }
}

#[test]
fn hypotheticals_and_information_questions_are_not_flags() {
    for text in [
        "What should I do if I get chest pain on the new tablets?",
        "The leaflet says swelling of the lips is a side effect, should I stop it?",
        "Is sepsis a risk after my operation?",
        "What are the signs of a stroke? Asking for my parents",
    ] {
        assert!(!flagged(text), "{text:?} flagged {:?}", labels(text));
    }
}

#[test]
fn misspellings_and_british_spellings_still_match() {
    for text in [
        "I cant breath properly and my lips have gone blue",
        "feeling sucidal tonight",
        "my chesst is really tight",
        "been vomitting blood",
        "I'm pregnent and bleading",
        "His sugars are low and he's very confussed",
        "had a haemorrhage from my nose that won't stop",
        "anaphalaxis after eating prawns",
    ] {
        assert!(flagged(text), "{text:?} not flagged");
    }
}

#[test]
fn assessment_debug_does_not_show_patient_words() {
    let a = detector().assess("I want to kill myself tonight");
    let dbg = format!("{a:?}");
    assert!(!dbg.contains("kill myself"), "{dbg}");
    assert!(dbg.contains("suicidal thoughts"));
}

#[test]
fn empty_and_odd_input_is_fine() {
    for text in ["", "   ", "....", "😀😀", "ß\u{0301}é chest", "\u{2019}"] {
        let _ = detector().assess(text);
    }
    assert!(!flagged(""));
}

#[test]
fn assessed_and_reassured_is_not_a_flag_unless_worse_again() {
    assert!(!flagged("Went to A&E last night with chest pain, the ECG was normal and they said it was muscular. Feeling fine now."));
    assert!(flagged("A&E said it was muscular last week but now the chest pain is back and worse, spreading to my left arm."));
}

#[test]
fn a_reassured_episode_never_hides_an_emergency_told_beside_it() {
    assert!(flagged(
        "My dad was discharged from hospital yesterday and is feeling better. My son has a rash that doesn't \
         fade when I press a glass on it and a high temperature."
    ));
    assert!(flagged(
        "Went to A&E last week with chest pain, ECG was normal, feeling fine now. My wife collapsed this \
         morning and her face has dropped on one side."
    ));
    assert!(flagged(
        "Seen in A&E on Monday, bloods were normal and I'm feeling better. I took 30 paracetamol last night \
         because I can't go on."
    ));
}

#[test]
fn fever_with_a_context_respects_negation_and_low_readings() {
    assert!(flagged("I inject heroin and have had a fever for three days"));
    assert!(!flagged("Lost tampon I think, no temperature, no smell, can the nurse look"));
    assert!(!flagged("On carbimazole, temp 36.9, just want my repeat please"));
}

#[test]
fn non_ascii_text_is_matched_and_mapped_back() {
    let text = "Naïve question but my chest pain is crushing — 38.5 fever";
    let a = detector().assess(text);
    assert!(a.suggests_urgent());
    for f in &a.flags {
        for m in &f.matches {
            assert_eq!(&text[m.start..m.end], m.words.reveal());
        }
    }
}
