//! Text normalisation for matching: pure ASCII, lower case, straight apostrophes,
//! contractions written without apostrophes, common misspellings, and
//! sentence/comma boundaries as tokens. Every normalised token remembers the
//! byte span it came from, so matches can be shown in the original text.

/// One token of the normalised text.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// Normalised form ("." for a sentence boundary, "," for a comma).
    pub text: String,
    /// Byte range in the normalised string.
    pub norm: (usize, usize),
    /// Byte range in the original text.
    pub orig: (usize, usize),
}

/// Normalised text: tokens joined by single spaces.
pub(crate) struct Normalised {
    pub text: String,
    pub tokens: Vec<Token>,
}

impl Normalised {
    /// The index of the first token ending after `start` and of the last
    /// token starting before `end` (a match's token range).
    pub fn token_range(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let first = self.tokens.iter().position(|t| t.norm.1 > start)?;
        let last = self.tokens.iter().rposition(|t| t.norm.0 < end)?;
        (first <= last).then_some((first, last))
    }
}

const SENTENCE_BREAKS: &[char] = &['.', '!', '?', ';', '\n', '\r'];
const COMMA_BREAKS: &[char] = &[',', ':', '(', ')', '"'];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '\'' || c == '&'
}

/// Contractions people type without the apostrophe, and spelled-out forms.
const CONTRACTIONS: &[(&str, &str)] = &[
    ("cant", "can't"),
    ("cannot", "can't"),
    ("wont", "won't"),
    ("dont", "don't"),
    ("didnt", "didn't"),
    ("doesnt", "doesn't"),
    ("isnt", "isn't"),
    ("hasnt", "hasn't"),
    ("havent", "haven't"),
    ("hadnt", "hadn't"),
    ("couldnt", "couldn't"),
    ("wouldnt", "wouldn't"),
    ("shouldnt", "shouldn't"),
    ("wasnt", "wasn't"),
    ("werent", "weren't"),
    ("arent", "aren't"),
    ("aint", "ain't"),
    ("im", "i'm"),
    ("ive", "i've"),
    ("id", "i'd"),
    ("ill", "i'll"),
    ("theyre", "they're"),
    ("hes", "he's"),
    ("shes", "she's"),
    ("thats", "that's"),
    ("whats", "what's"),
    ("theres", "there's"),
];

/// Misspellings seen in patient messages, mapped to the spelling the rules use.
const MISSPELLINGS: &[(&str, &str)] = &[
    ("chesst", "chest"),
    ("cheast", "chest"),
    ("chect", "chest"),
    ("chets", "chest"),
    ("chesr", "chest"),
    ("pian", "pain"),
    ("paine", "pain"),
    ("brethe", "breathe"),
    ("breth", "breath"),
    ("breate", "breathe"),
    ("breating", "breathing"),
    ("brething", "breathing"),
    ("brethless", "breathless"),
    ("breathles", "breathless"),
    ("sucidal", "suicidal"),
    ("suicidle", "suicidal"),
    ("suacidal", "suicidal"),
    ("suisidal", "suicidal"),
    ("suicdal", "suicidal"),
    ("sucide", "suicide"),
    ("suiside", "suicide"),
    ("meself", "myself"),
    ("myslef", "myself"),
    ("mysef", "myself"),
    ("siezure", "seizure"),
    ("seizur", "seizure"),
    ("sezure", "seizure"),
    ("seisure", "seizure"),
    ("seazure", "seizure"),
    ("ceasure", "seizure"),
    ("siezures", "seizures"),
    ("vommiting", "vomiting"),
    ("vomitting", "vomiting"),
    ("vommitting", "vomiting"),
    ("vomitted", "vomited"),
    ("vommited", "vomited"),
    ("vomitting", "vomiting"),
    ("throwin", "throwing"),
    ("bleading", "bleeding"),
    ("bledding", "bleeding"),
    ("bleedin", "bleeding"),
    ("pregant", "pregnant"),
    ("pregnent", "pregnant"),
    ("pregnat", "pregnant"),
    ("prenant", "pregnant"),
    ("preggers", "pregnant"),
    ("preggo", "pregnant"),
    ("pregancy", "pregnancy"),
    ("pregnacy", "pregnancy"),
    ("hedache", "headache"),
    ("headach", "headache"),
    ("headake", "headache"),
    ("hedake", "headache"),
    ("confussed", "confused"),
    ("confuzed", "confused"),
    ("confued", "confused"),
    ("droopin", "drooping"),
    ("droopping", "drooping"),
    ("slured", "slurred"),
    ("sluring", "slurring"),
    ("unconcious", "unconscious"),
    ("unconsious", "unconscious"),
    ("paracetemol", "paracetamol"),
    ("paracetomol", "paracetamol"),
    ("paracetmol", "paracetamol"),
    ("paracetamols", "paracetamol"),
    ("tabs", "tablets"),
    ("tablet", "tablets"),
    ("pills", "tablets"),
    ("pill", "tablets"),
    ("swolen", "swollen"),
    ("sweling", "swelling"),
    ("throught", "throat"),
    ("thoat", "throat"),
    ("troat", "throat"),
    ("stomache", "stomach"),
    ("stomac", "stomach"),
    ("tummys", "tummy"),
    ("poop", "poo"),
    ("poos", "poo"),
    ("stools", "stool"),
    ("feces", "faeces"),
    ("diarrhea", "diarrhoea"),
    ("eyesite", "eyesight"),
    ("visoin", "vision"),
    ("nummb", "numb"),
    ("numbnes", "numbness"),
    ("mins", "minutes"),
    ("min", "minutes"),
    ("minute", "minutes"),
    ("hrs", "hours"),
    ("hr", "hours"),
    ("mum's", "mum"),
    ("dad's", "dad"),
    ("ambulence", "ambulance"),
    ("anaemic", "anaemic"),
];

/// Words long enough for one-typo correction (Damerau distance 1).
const FUZZY_VOCABULARY: &[&str] = &[
    "breathless",
    "breathlessness",
    "breathing",
    "struggling",
    "suicidal",
    "suicide",
    "seizure",
    "seizures",
    "unconscious",
    "unresponsive",
    "confused",
    "confusion",
    "anaphylaxis",
    "anaphylactic",
    "paracetamol",
    "overdose",
    "overdosed",
    "pregnant",
    "pregnancy",
    "bleeding",
    "haemorrhage",
    "vomiting",
    "headache",
    "drooping",
    "slurred",
    "slurring",
    "swollen",
    "swelling",
    "tightness",
    "numbness",
    "blanching",
    "mottled",
    "shivering",
    "collapsed",
    "bladder",
    "incontinent",
    "incontinence",
    "crushing",
    "radiating",
    "spreading",
    "thoughts",
    "harming",
    "hurting",
    "eyesight",
    "suddenly",
    "sciatica",
    "diabetic",
    "epileptic",
    "unrousable",
    "miscarriage",
    "ectopic",
];

/// Real words that are one typo away from a vocabulary word and must stay.
const PROTECTED: &[&str] = &[
    "sloppy",
    "dropping",
    "dropped",
    "breathed",
    "breather",
    "bleeping",
    "bleating",
    "shivered",
    "crashing",
    "brushing",
    "spending",
    "swallow",
    "thought",
    "confuses",
    "confuse",
    "hurtling",
    "blending",
    "breeding",
    "hunting",
    "farming",
    "warming",
    "charming",
    "spelling",
    "smelling",
    "dwelling",
    "lightness",
    "rightness",
    "slurped",
    "blasting",
    "crusting",
];

/// True when `a` and `b` are equal or one edit apart (a substitution, an
/// insertion, a deletion or a swap of neighbours). Runs on every long word of
/// every patient message against the whole vocabulary, so ASCII words (the
/// usual case) are compared as bytes, without allocating.
fn damerau_at_most_one(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return within_one_edit(a.as_bytes(), b.as_bytes());
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    within_one_edit(&a, &b)
}

fn within_one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    if a == b {
        return true;
    }
    let prefix = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
    if la == lb {
        // One substitution, or one transposition of neighbours.
        if a[prefix + 1..] == b[prefix + 1..] {
            return true;
        }
        prefix + 1 < la
            && a[prefix] == b[prefix + 1]
            && a[prefix + 1] == b[prefix]
            && a[prefix + 2..] == b[prefix + 2..]
    } else if la > lb {
        a[prefix + 1..] == b[prefix..]
    } else {
        a[prefix..] == b[prefix + 1..]
    }
}

fn normalise_word(raw: &str) -> String {
    let word = raw.trim_matches('\'');
    if let Some((_, to)) = CONTRACTIONS.iter().find(|(from, _)| *from == word) {
        return (*to).to_string();
    }
    if let Some((_, to)) = MISSPELLINGS.iter().find(|(from, _)| *from == word) {
        return (*to).to_string();
    }
    // Anaphylaxis has many spellings; they all start alike.
    if (word.starts_with("anaph") || word.starts_with("anaf")) && word.len() >= 8 {
        return if word.contains("act") || word.contains("ak") { "anaphylactic" } else { "anaphylaxis" }
            .to_string();
    }
    let len = word.chars().count();
    if len >= 7 && !PROTECTED.contains(&word) && !FUZZY_VOCABULARY.contains(&word) {
        let mut candidates = FUZZY_VOCABULARY.iter().filter(|v| damerau_at_most_one(word, v));
        if let (Some(only), None) = (candidates.next(), candidates.next()) {
            return (*only).to_string();
        }
    }
    word.to_string()
}

/// Normalises `input` for matching.
pub(crate) fn normalise(input: &str) -> Normalised {
    let mut tokens: Vec<Token> = Vec::new();
    let mut text = String::new();
    let mut push = |word: String, orig: (usize, usize), tokens: &mut Vec<Token>| {
        if word.is_empty() {
            return;
        }
        // The rules are ASCII, so other letters can never be part of a
        // literal; mapping them to one ASCII letter keeps them word
        // characters and keeps the text pure ASCII for the fast matcher.
        let word = if word.is_ascii() {
            word
        } else {
            word.chars().map(|c| if c.is_ascii() { c } else { 'x' }).collect()
        };
        if !text.is_empty() {
            text.push(' ');
        }
        let start = text.len();
        text.push_str(&word);
        tokens.push(Token { text: word, norm: (start, text.len()), orig });
    };
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let c = match c {
            '\u{2018}' | '\u{2019}' | '`' | '\u{00b4}' => '\'',
            other => other,
        };
        if is_word_char(c) {
            let start = pos;
            let mut word = String::new();
            let mut end = pos;
            while i < chars.len() {
                let (p, ch) = chars[i];
                let ch = match ch {
                    '\u{2018}' | '\u{2019}' | '`' | '\u{00b4}' => '\'',
                    other => other,
                };
                let decimal_point = ch == '.'
                    && word.chars().last().is_some_and(|l| l.is_ascii_digit())
                    && chars.get(i + 1).is_some_and(|(_, n)| n.is_ascii_digit());
                if decimal_point {
                    // A decimal point must not look like a sentence break
                    // (":" never reaches the text otherwise).
                    word.push(':');
                    end = p + ch.len_utf8();
                    i += 1;
                } else if is_word_char(ch) {
                    word.extend(ch.to_lowercase());
                    end = p + ch.len_utf8();
                    i += 1;
                } else {
                    break;
                }
            }
            push(normalise_word(&word), (start, end), &mut tokens);
            continue;
        }
        if SENTENCE_BREAKS.contains(&c) {
            if tokens.last().is_none_or(|t| t.text != ".") {
                push(".".to_string(), (pos, pos + c.len_utf8()), &mut tokens);
            }
        } else if COMMA_BREAKS.contains(&c) && tokens.last().is_some_and(|t| t.text != "." && t.text != ",") {
            push(",".to_string(), (pos, pos + c.len_utf8()), &mut tokens);
        }
        i += 1;
    }
    Normalised { text, tokens }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_apostrophes_contractions_and_typos() {
        let n = normalise("I CANT breath, my chesst is tight… I’m so brethless!");
        assert_eq!(n.text, "i can't breath , my chest is tight i'm so breathless .");
        let n = normalise("Feeling sucidal; took 2.5 tabs");
        assert_eq!(n.text, "feeling suicidal . took 2:5 tablets");
    }

    #[test]
    fn one_typo_corrections_and_protected_words() {
        assert_eq!(normalise("vomitting bleedng pregnnt").text, "vomiting bleeding pregnant");
        assert_eq!(normalise("sloppy dropping").text, "sloppy dropping");
        assert_eq!(normalise("anaphalaxis anafylactic").text, "anaphylaxis anaphylactic");
    }

    #[test]
    fn tokens_map_back_to_original_spans() {
        let input = "My CHESST hurts";
        let n = normalise(input);
        let t = &n.tokens[1];
        assert_eq!(t.text, "chest");
        assert_eq!(&input[t.orig.0..t.orig.1], "CHESST");
        assert_eq!(n.token_range(3, 14), Some((1, 2)));
    }

    #[test]
    fn damerau_distance_one() {
        assert!(damerau_at_most_one("bleedign", "bleeding"));
        assert!(damerau_at_most_one("bleding", "bleeding"));
        assert!(damerau_at_most_one("bleeeding", "bleeding"));
        assert!(damerau_at_most_one("blending", "bleeding"));
        assert!(!damerau_at_most_one("bleed", "bleeding"));
        assert!(!damerau_at_most_one("beldineg", "bleeding"));
        // Non-ASCII words are compared by characters, not bytes.
        assert!(damerau_at_most_one("bléeding", "bleeding"));
        assert!(!damerau_at_most_one("bléédïng", "bleeding"));
        // Real words one letter away stay as written.
        assert_eq!(normalise("blending breeding spelling").text, "blending breeding spelling");
    }
}
