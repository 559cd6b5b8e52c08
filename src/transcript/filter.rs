//! Transcript filtering, as the job config's `transcript_filtering_config`
//! and `punctuation_overrides` ask: disfluency removal, word replacements and
//! permitted punctuation marks.
//!
//! Pure functions over [`Item`]s, applied after recognition and before any
//! format is rendered, in this order: disfluencies are removed, then words
//! are replaced, then punctuation marks that are not permitted are dropped.
//!
//! Replacement rules follow the Speechmatics formatting reference: a `from`
//! wrapped in slashes (`/^[hH]ello$/`) is a regular expression (ECMAScript
//! flavour: `$1`, `$&` and `$$` in `to`), anything else is a whole word,
//! matched case-sensitively. Plain replacements are tried first, then regular
//! expressions in the order listed; the first that matches a word is applied
//! (a regex replaces all its matches in the word) and no other is tried. A
//! word replaced by the empty string is removed.
//!
//! Imports: `transcript` only.

use super::{Item, ItemKind};

/// English hesitation sounds (the Speechmatics list of tagged disfluencies).
pub const ENGLISH_DISFLUENCIES: [&str; 41] = [
    "huh", "aha", "ah", "aw", "eh", "err", "hmm", "mm", "um", "uh", "uh-oh", "uh-huh", "uh-uh",
    "mhm", "a-ha", "aah", "aahh", "aaw", "ah-ha", "ahaa", "ahh", "ahha", "aww", "eeh", "erm",
    "hhm", "hhmm", "hm", "huh-uh", "m-hm", "uggh", "ugh", "ughh", "uhh", "uhhm", "uhm", "uhmm",
    "umm", "uuh", "uuhh", "uum",
];

/// What to filter out of, or change in, a transcript.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// Word replacements, in the order given.
    pub replacements: Vec<Replacement>,
    /// Remove hesitation sounds ("um", "uh", ...).
    pub remove_disfluencies: bool,
    /// Punctuation marks to keep; `None` keeps all.
    pub permitted_marks: Option<Vec<String>>,
    /// `additional_vocab` entries with `sounds_like`: (content, spellings).
    pub vocabulary: Vec<(String, Vec<String>)>,
}

impl Filters {
    /// Whether applying these filters can change anything.
    pub fn is_empty(&self) -> bool {
        self.replacements.is_empty()
            && !self.remove_disfluencies
            && self.permitted_marks.is_none()
            && self.vocabulary.is_empty()
    }
}

#[derive(Clone, Debug)]
enum Pattern {
    Word(String),
    Regex(Box<fancy_regex::Regex>),
}

/// The most one replacement's regular expression may compile to (and its
/// lazy DFA grow to), in bytes: a job config cannot make hark spend seconds
/// and gigabytes compiling `\w{300}` (the regex crate's default is 10 MiB).
pub const MAX_REGEX_BYTES: usize = 1 << 20;

/// One word replacement (`{"from": ..., "to": ...}`).
#[derive(Clone, Debug)]
pub struct Replacement {
    from: Pattern,
    to: String,
}

impl Replacement {
    /// Builds a replacement; `from` in slashes is a regular expression.
    /// Fails, saying why, on a malformed regular expression.
    pub fn new(from: &str, to: &str) -> Result<Replacement, String> {
        let regex = from
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix('/'))
            .filter(|_| from.len() >= 2);
        let from = match regex {
            Some(re) => {
                let compiled = fancy_regex::RegexBuilder::new(re)
                    .delegate_size_limit(MAX_REGEX_BYTES)
                    .delegate_dfa_size_limit(MAX_REGEX_BYTES)
                    .build()
                    // fancy-regex's message hides why the NFA failed; its
                    // Debug form names regex-automata's ExceededSizeLimit.
                    .map_err(|e| match e.to_string() {
                        _ if format!("{e:?}").contains("SizeLimit") => format!(
                            "regular expression {from:?} is too complex (it compiles to over {} KiB)",
                            MAX_REGEX_BYTES / 1024
                        ),
                        // The regex crate draws a caret under the pattern
                        // over several lines: keep hark's message on one.
                        m => format!(
                            "malformed regular expression {from:?}: {}",
                            m.split_whitespace().collect::<Vec<_>>().join(" ")
                        ),
                    })?;
                return Ok(Replacement {
                    from: Pattern::Regex(Box::new(compiled)),
                    to: ecmascript_replacement(to),
                });
            }
            None => Pattern::Word(from.to_string()),
        };
        Ok(Replacement {
            from,
            to: to.to_string(),
        })
    }

    /// Whether `from` names a regular expression (`/.../`).
    pub fn is_regex_text(from: &str) -> bool {
        from.len() >= 2 && from.starts_with('/') && from.ends_with('/')
    }

    fn is_regex(&self) -> bool {
        matches!(self.from, Pattern::Regex(_))
    }

    /// The replaced word, or `None` if this replacement does not match `word`.
    fn apply(&self, word: &str) -> Option<String> {
        match &self.from {
            Pattern::Word(w) => (w == word).then(|| self.to.clone()),
            Pattern::Regex(re) => {
                if !re.is_match(word).unwrap_or(false) {
                    return None;
                }
                re.try_replacen(word, 0, self.to.as_str())
                    .ok()
                    .map(|c| c.into_owned())
            }
        }
    }
}

/// Rewrites an ECMAScript replacement string (`$1`, `$&`, `$$`) into the
/// `${1}` syntax of the regex engine, so `$1x` means group 1 then `x`.
fn ecmascript_replacement(to: &str) -> String {
    let mut out = String::with_capacity(to.len());
    let mut chars = to.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('$') => {
                chars.next();
                out.push_str("$$");
            }
            Some('&') => {
                chars.next();
                out.push_str("${0}");
            }
            Some(d) if d.is_ascii_digit() => {
                let mut n = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    n.push(d);
                    chars.next();
                    if n.len() == 2 {
                        break;
                    }
                }
                out.push_str(&format!("${{{n}}}"));
            }
            _ => out.push_str("$$"),
        }
    }
    out
}

/// Whether `word` is a hesitation sound hark knows for `language`.
pub fn is_disfluency(word: &str, language: &str) -> bool {
    language == "en" && ENGLISH_DISFLUENCIES.contains(&word.to_lowercase().as_str())
}

/// Applies `filters` to time-ordered `items` of `language`.
pub fn apply(items: Vec<Item>, filters: &Filters, language: &str) -> Vec<Item> {
    let items = if filters.remove_disfluencies {
        remove_disfluencies(items, language)
    } else {
        items
    };
    let items = sounds_like(items, &filters.vocabulary);
    let items = replace(items, &filters.replacements);
    match &filters.permitted_marks {
        Some(marks) if !marks.iter().any(|m| m == "all") => items
            .into_iter()
            .filter(|i| i.kind == ItemKind::Word || marks.contains(&i.content))
            .collect(),
        _ => items,
    }
}

/// `additional_vocab`'s `sounds_like`: a run of words that spells one of an
/// entry's `sounds_like` (case and punctuation aside) becomes the entry's
/// `content`, one item spanning the run; longer spellings are tried first.
fn sounds_like(items: Vec<Item>, vocabulary: &[(String, Vec<String>)]) -> Vec<Item> {
    if vocabulary.is_empty() {
        return items;
    }
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric() || *c == '\'')
            .flat_map(char::to_lowercase)
            .collect()
    };
    // (spelling as normalized words, content), longest first.
    let mut rules: Vec<(Vec<String>, &str)> = vocabulary
        .iter()
        .flat_map(|(content, sounds)| {
            sounds.iter().map(move |s| {
                let words: Vec<String> = s
                    .split_whitespace()
                    .map(norm)
                    .filter(|w| !w.is_empty())
                    .collect();
                (words, content.as_str())
            })
        })
        .filter(|(w, _)| !w.is_empty())
        .collect();
    rules.sort_by_key(|r| std::cmp::Reverse(r.0.len()));
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    let mut i = 0;
    'outer: while i < items.len() {
        if items[i].kind == ItemKind::Word {
            for (spelling, content) in &rules {
                // The next words (punctuation between them ends the run).
                let run = items[i..]
                    .iter()
                    .take(spelling.len())
                    .take_while(|x| x.kind == ItemKind::Word);
                let words: Vec<String> = run.map(|x| norm(&x.content)).collect();
                if words == *spelling {
                    let last = &items[i + spelling.len() - 1];
                    let confidence = items[i..i + spelling.len()]
                        .iter()
                        .map(|x| x.confidence)
                        .fold(1.0, f64::min);
                    out.push(Item {
                        content: (*content).to_string(),
                        end: last.end,
                        confidence,
                        ..items[i].clone()
                    });
                    i += spelling.len();
                    continue 'outer;
                }
            }
        }
        out.push(items[i].clone());
        i += 1;
    }
    out
}

/// Removes hesitation sounds with the punctuation that only they needed:
/// "Um, what would you like, hmm?" becomes "What would you like?".
fn remove_disfluencies(items: Vec<Item>, language: &str) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    let mut iter = items.into_iter().peekable();
    let mut capitalize_next = false;
    while let Some(mut item) = iter.next() {
        if item.kind == ItemKind::Word && is_disfluency(&item.content, language) {
            let capitalized = item.content.chars().next().is_some_and(char::is_uppercase);
            match iter.peek() {
                // "Um, what": the comma goes with the "um".
                Some(next) if next.kind == ItemKind::Punctuation && !next.is_eos => {
                    iter.next();
                }
                // "like, hmm?": the sentence end stays, the comma before goes.
                Some(next)
                    if next.kind == ItemKind::Punctuation
                        && out
                            .last()
                            .is_some_and(|p| p.kind == ItemKind::Punctuation && !p.is_eos) =>
                {
                    out.pop();
                }
                _ => {}
            }
            capitalize_next |= capitalized;
            continue;
        }
        if capitalize_next && item.kind == ItemKind::Word {
            item.content = capitalize(&item.content);
            capitalize_next = false;
        }
        out.push(item);
    }
    out
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Applies word replacements; words replaced by nothing are removed.
fn replace(items: Vec<Item>, replacements: &[Replacement]) -> Vec<Item> {
    if replacements.is_empty() {
        return items;
    }
    let plain = replacements.iter().filter(|r| !r.is_regex());
    let regex = replacements.iter().filter(|r| r.is_regex());
    let order: Vec<&Replacement> = plain.chain(regex).collect();
    items
        .into_iter()
        .filter_map(|mut item| {
            if item.kind != ItemKind::Word {
                return Some(item);
            }
            if let Some(new) = order.iter().find_map(|r| r.apply(&item.content)) {
                item.content = new;
            }
            (!item.content.is_empty()).then_some(item)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn word(s: &str, t: f64) -> Item {
        Item {
            kind: ItemKind::Word,
            content: s.into(),
            start: t,
            end: t + 0.2,
            confidence: 0.9,
            channel: None,
            speaker: "UU".into(),
            is_eos: false,
            attaches_to: crate::transcript::Attach::Previous,
            language: None,
        }
    }

    fn punct(s: &str, t: f64, eos: bool) -> Item {
        Item {
            kind: ItemKind::Punctuation,
            content: s.into(),
            start: t,
            end: t,
            is_eos: eos,
            ..word(s, t)
        }
    }

    #[test]
    fn sounds_like_spellings_become_the_content() {
        let items = vec![
            word("call", 0.0),
            word("Shiv", 1.0),
            word("on", 2.0),
            punct(",", 2.2, false),
            word("nav", 3.0),
            word("Kubernetes.", 4.0),
        ];
        let vocab = vec![
            (
                "Siobhan".to_string(),
                vec!["shiv on".to_string(), "shiv".to_string()],
            ),
            ("Niamh".to_string(), vec!["nav".to_string()]),
        ];
        let out = sounds_like(items, &vocab);
        let got: Vec<(&str, f64, f64)> = out
            .iter()
            .map(|i| (i.content.as_str(), i.start, i.end))
            .collect();
        assert_eq!(
            got,
            [
                ("call", 0.0, 0.2),
                ("Siobhan", 1.0, 2.2),
                (",", 2.2, 2.2),
                ("Niamh", 3.0, 3.2),
                ("Kubernetes.", 4.0, 4.2)
            ]
        );
    }

    fn text(items: &[Item]) -> String {
        let mut s = String::new();
        for i in items {
            if !s.is_empty() && i.kind == ItemKind::Word {
                s.push(' ');
            }
            s.push_str(&i.content);
        }
        s
    }

    fn sentence(spec: &str) -> Vec<Item> {
        let mut out = Vec::new();
        for (n, tok) in spec.split_whitespace().enumerate() {
            let t = n as f64;
            match tok {
                "," => out.push(punct(",", t, false)),
                "?" | "." => out.push(punct(tok, t, true)),
                w => out.push(word(w, t)),
            }
        }
        out
    }

    fn filters(replacements: &[(&str, &str)]) -> Filters {
        Filters {
            replacements: replacements
                .iter()
                .map(|(f, t)| Replacement::new(f, t).unwrap())
                .collect(),
            ..Filters::default()
        }
    }

    #[test]
    fn disfluencies_and_their_punctuation_are_removed() {
        let f = Filters {
            remove_disfluencies: true,
            ..Filters::default()
        };
        let out = apply(sentence("Um , what would you like , hmm ?"), &f, "en");
        assert_eq!(text(&out), "What would you like?");
        // Times are kept.
        assert_eq!(out[0].start, 2.0);
        // Not English: nothing known to remove.
        let out = apply(sentence("um one"), &f, "de");
        assert_eq!(text(&out), "um one");
    }

    #[test]
    fn disfluencies_are_kept_unless_asked() {
        let out = apply(sentence("one uh two"), &Filters::default(), "en");
        assert_eq!(text(&out), "one uh two");
        let f = Filters {
            remove_disfluencies: true,
            ..Filters::default()
        };
        assert_eq!(
            text(&apply(sentence("one uh erm two"), &f, "en")),
            "one two"
        );
    }

    #[test]
    fn plain_replacements_match_whole_words_case_sensitively() {
        let f = filters(&[("foo", "bar"), ("heavy", "light")]);
        let out = apply(sentence("foo Foo food heavy"), &f, "en");
        assert_eq!(text(&out), "bar Foo food light");
    }

    #[test]
    fn regex_replacements_follow_the_reference_examples() {
        let f = filters(&[("/^[hH]ello$/", "goodbye"), ("/(cheese)/", "[$1]")]);
        let out = apply(sentence("Hello hello hellos cheesecake"), &f, "en");
        assert_eq!(text(&out), "goodbye goodbye hellos [cheese]cake");
        // Global: every match in the word is replaced.
        let f = filters(&[("/o/", "0")]);
        assert_eq!(text(&apply(sentence("foo"), &f, "en")), "f00");
        // `$&` is the whole match; `$$` a dollar.
        let f = filters(&[("/[0-9]+/", "$$$&")]);
        assert_eq!(text(&apply(sentence("x12"), &f, "en")), "x$12");
    }

    #[test]
    fn plain_replacements_win_and_only_one_applies() {
        let f = filters(&[("/one/", "regex"), ("one", "plain"), ("plain", "twice")]);
        let out = apply(sentence("one"), &f, "en");
        assert_eq!(text(&out), "plain");
        // First matching regex wins.
        let f = filters(&[("/^t/", "A"), ("/two/", "B")]);
        assert_eq!(text(&apply(sentence("two"), &f, "en")), "Awo");
    }

    #[test]
    fn replacing_with_nothing_removes_the_word() {
        let f = filters(&[("/^[0-9]$/", ""), ("secret", "")]);
        let out = apply(sentence("my secret is 4 ."), &f, "en");
        assert_eq!(text(&out), "my is.");
    }

    #[test]
    fn malformed_regex_is_an_error() {
        let e = Replacement::new("/(unclosed/", "x").unwrap_err();
        assert!(e.contains("malformed"), "{e}");
        // A lone slash is a plain word.
        assert!(Replacement::new("/", "x").is_ok());
    }

    #[test]
    fn permitted_marks_drop_other_punctuation() {
        let mut f = Filters {
            permitted_marks: Some(vec![".".into(), ",".into()]),
            ..Filters::default()
        };
        let items = sentence("hi , you ? yes .");
        assert_eq!(text(&apply(items.clone(), &f, "en")), "hi, you yes.");
        f.permitted_marks = Some(vec![]);
        assert_eq!(text(&apply(items.clone(), &f, "en")), "hi you yes");
        f.permitted_marks = Some(vec!["all".into()]);
        assert_eq!(text(&apply(items, &f, "en")), "hi, you? yes.");
    }

    #[test]
    fn ecmascript_replacement_syntax() {
        assert_eq!(ecmascript_replacement("[$1]"), "[${1}]");
        assert_eq!(ecmascript_replacement("$1x"), "${1}x");
        assert_eq!(ecmascript_replacement("$&$$"), "${0}$$");
        assert_eq!(ecmascript_replacement("a$"), "a$$");
        assert_eq!(ecmascript_replacement("$12"), "${12}");
    }
}
