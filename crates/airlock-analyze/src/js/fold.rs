//! What rewriters do to literals, undone before any rule reads a file: a string cut
//! into pieces (`"ht" + "tp" + ("s:" + "//x")`, each piece hex-escaped) is one literal
//! again, so a host name, a path, a module name or an obfuscator's string table reads
//! the same to every rule, the ones that follow values and the ones that read source
//! text, however the text was split.
//!
//! The pieces are found on the syntax tree and replaced in the source text, which is
//! then parsed again: line numbers stay where they were.

use oxc_ast::ast::{BinaryExpression, Decorator, Expression, ExpressionStatement, Program};
use oxc_ast_visit::{Visit, walk};
use oxc_span::{GetSpan, Span};
use oxc_syntax::operator::BinaryOperator;

/// The longest literal folding builds: a longer run is left as written (its
/// parenthesised parts may still fold).
const MAX_FOLDED: usize = 64 * 1024;

/// `source` with every string literal that was written as pieces (a run of `+`ed
/// literals, a parenthesised literal) written as one literal, or `None` when there
/// are none.
pub(crate) fn folded_source(source: &str, program: &Program<'_>) -> Option<String> {
    let mut finder = Finder::default();
    finder.visit_program(program);
    if finder.folds.is_empty() {
        return None;
    }
    finder.folds.sort_by_key(|(span, _)| span.start);
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    for (span, text) in finder.folds {
        let (start, end) = (span.start as usize, span.end as usize);
        let (Some(before), Some(replaced)) = (source.get(at..start), source.get(start..end)) else {
            return None;
        };
        out.push_str(before);
        out.push_str(&quoted(&text));
        // Keep every later line on its number.
        out.extend(std::iter::repeat_n('\n', replaced.matches('\n').count()));
        at = end;
    }
    out.push_str(source.get(at..)?);
    Some(out)
}

/// `text` as a JavaScript string literal.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The outermost spans that fold, with their text.
#[derive(Default)]
struct Finder {
    folds: Vec<(Span, String)>,
}

impl<'a> Visit<'a> for Finder {
    fn visit_expression(&mut self, expression: &Expression<'a>) {
        match expression {
            Expression::BinaryExpression(binary) if binary.operator == BinaryOperator::Addition => {
                self.sum(binary);
            }
            // `("x")`, `("a" + "b")`: one literal, without its parentheses.
            Expression::ParenthesizedExpression(_) => match piece_text(expression) {
                Some(text) => self.folds.push((expression.span(), text)),
                None => walk::walk_expression(self, expression),
            },
            _ => walk::walk_expression(self, expression),
        }
    }

    // A directive stays what it is: `("use strict")` folded would turn strict mode on.
    fn visit_expression_statement(&mut self, statement: &ExpressionStatement<'a>) {
        match &statement.expression {
            Expression::ParenthesizedExpression(parenthesized) => {
                self.visit_expression(&parenthesized.expression);
            }
            expression => self.visit_expression(expression),
        }
    }

    // `@("a" + "b")` must keep its parentheses.
    fn visit_decorator(&mut self, _decorator: &Decorator<'a>) {}
}

impl Finder {
    /// A `+` chain, walked once along its left spine: each run of two or more
    /// literal pieces is one fold (`x + "a" + "b"` is `x + "ab"`, since `+` of
    /// strings is concatenation whatever came before); every other piece is visited.
    fn sum(&mut self, binary: &BinaryExpression<'_>) {
        let parts = spine(binary);
        let texts: Vec<Option<String>> = parts.iter().map(|part| piece_text(part)).collect();
        let mut index = 0;
        while index < parts.len() {
            let run = texts[index..]
                .iter()
                .take_while(|text| text.is_some())
                .count();
            if run >= 2 {
                let pieces = &texts[index..index + run];
                // A run too long to join is left as written, and not looked at again.
                if pieces.iter().flatten().map(String::len).sum::<usize>() <= MAX_FOLDED {
                    let text: String = pieces.iter().flatten().map(String::as_str).collect();
                    let span =
                        Span::new(parts[index].span().start, parts[index + run - 1].span().end);
                    self.folds.push((span, text));
                }
                index += run;
                continue;
            }
            let part = parts[index];
            if !matches!(part, Expression::StringLiteral(_)) {
                self.visit_expression(part);
            }
            index += 1;
        }
    }
}

/// The pieces of `a + b + c` from left to right, following the left spine without
/// recursion (long chains are common in generated code); parenthesised sums stay
/// single pieces.
fn spine<'e, 'a>(binary: &'e BinaryExpression<'a>) -> Vec<&'e Expression<'a>> {
    let mut parts = vec![&binary.right];
    let mut left = &binary.left;
    while let Expression::BinaryExpression(inner) = left
        && inner.operator == BinaryOperator::Addition
    {
        parts.push(&inner.right);
        left = &inner.left;
    }
    parts.push(left);
    parts.reverse();
    parts
}

/// The text a piece stands for: a string literal, or literals joined in
/// parentheses (`("a" + ("b" + "c"))`).
fn piece_text(expression: &Expression<'_>) -> Option<String> {
    match expression {
        Expression::StringLiteral(literal) if !literal.lone_surrogates => {
            Some(literal.value.as_str().to_owned())
        }
        Expression::ParenthesizedExpression(parenthesized) => match &parenthesized.expression {
            Expression::BinaryExpression(binary) if binary.operator == BinaryOperator::Addition => {
                let mut text = String::new();
                for part in spine(binary) {
                    text.push_str(&piece_text(part)?);
                    if text.len() > MAX_FOLDED {
                        return None;
                    }
                }
                Some(text)
            }
            inner => piece_text(inner),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxc_allocator::Allocator;
    use oxc_parser::Parser;
    use oxc_span::SourceType;

    fn fold(source: &str) -> Option<String> {
        let allocator = Allocator::default();
        let parsed = Parser::new(&allocator, source, SourceType::cjs()).parse();
        folded_source(source, &parsed.program)
    }

    #[test]
    fn pieces_and_escapes_become_one_literal() {
        assert_eq!(
            fold(r#"get(("\x68\x74" + 'tp') + ("s:" + "//x.example"), cb);"#).as_deref(),
            Some(r#"get("https://x.example", cb);"#)
        );
        assert_eq!(
            fold("exec(('/tmp' + '/x'));").as_deref(),
            Some(r#"exec("/tmp/x");"#)
        );
    }

    #[test]
    fn lines_keep_their_numbers() {
        let folded = fold("x = 'a' +\n  'b';\nexec(y);").unwrap();
        assert_eq!(folded, "x = \"ab\"\n;\nexec(y);");
        assert_eq!(folded.lines().count(), 3);
    }

    #[test]
    fn only_literal_pieces_fold() {
        assert_eq!(fold(r#"name + ".example";"#), None);
        assert_eq!(fold("1 + 2;"), None);
        assert_eq!(fold(r#""a" - "b";"#), None);
        assert_eq!(fold(r#"f("a");"#), None);
        // A sum that starts with a value has its literal run joined.
        assert_eq!(fold(r#"x + "a" + "b";"#).as_deref(), Some(r#"x + "ab";"#));
        assert_eq!(fold(r#"x + "a" + y + "b";"#), None);
    }

    #[test]
    fn directives_and_decorators_keep_their_parentheses() {
        assert_eq!(fold(r#"("use strict");"#), None);
        assert_eq!(
            fold(r#"("use " + "strict");"#).as_deref(),
            Some(r#"("use strict");"#)
        );
    }

    #[test]
    fn long_chains_headed_by_a_value_fold_in_one_pass() {
        let short = format!("x{};", " + 'AAAA'".repeat(10_000));
        assert!(fold(&short).unwrap().starts_with("x + \"AAAA"));
        // Past 64 KiB the run stays as written; either way each piece is read once.
        let long = format!("x{};", " + 'AAAA'".repeat(20_000));
        assert_eq!(fold(&long), None);
    }

    #[test]
    fn quotes_and_line_breaks_inside_stay_literal() {
        assert_eq!(
            fold(r#"s = "say \"" + 'hi\n';"#).as_deref(),
            Some(r#"s = "say \"hi\n";"#)
        );
    }
}
