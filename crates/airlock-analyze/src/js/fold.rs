//! What rewriters do to literals, undone before any rule reads a file: a string cut
//! into pieces (`"ht" + "tp" + ("s:" + "//x")`, each piece hex-escaped) is one literal
//! again, so a host name, a path, a module name or an obfuscator's string table reads
//! the same to every rule, the ones that follow values and the ones that read source
//! text, however the text was split.
//!
//! The pieces are found on the syntax tree and replaced in the source text, which is
//! then parsed again: line numbers stay where they were.

use oxc_ast::ast::{BinaryExpression, Expression, Program};
use oxc_ast_visit::{Visit, walk};
use oxc_span::{GetSpan, Span};
use oxc_syntax::operator::BinaryOperator;

/// The longest literal folding builds: past it, pieces stay pieces.
const MAX_FOLDED: usize = 64 * 1024;

/// `source` with every string literal that was written as pieces (`+` of literals,
/// parenthesised literals) written as one literal, or `None` when there are none.
pub(crate) fn folded_source(source: &str, program: &Program<'_>) -> Option<String> {
    let mut finder = Finder::default();
    finder.visit_program(program);
    if finder.folds.is_empty() {
        return None;
    }
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

/// The outermost expressions that fold, in source order, with their text.
#[derive(Default)]
struct Finder {
    folds: Vec<(Span, String)>,
}

impl<'a> Visit<'a> for Finder {
    fn visit_expression(&mut self, expression: &Expression<'a>) {
        if let Some(text) = folded(expression) {
            // The outermost fold wins; what is inside it is not visited.
            self.folds.push((expression.span(), text));
            return;
        }
        walk::walk_expression(self, expression);
    }
}

/// The text `expression` stands for when it is literal pieces joined: at least two
/// pieces, or one in parentheses.
fn folded(expression: &Expression<'_>) -> Option<String> {
    match expression {
        Expression::ParenthesizedExpression(parenthesized) => {
            let inner = parenthesized.expression.without_parentheses();
            literal(inner).map(str::to_owned).or_else(|| match inner {
                Expression::BinaryExpression(binary) => joined(binary),
                _ => None,
            })
        }
        Expression::BinaryExpression(binary) => joined(binary),
        _ => None,
    }
}

/// `a + b + …` when every piece is a string literal (or such a sum in parentheses).
fn joined(binary: &BinaryExpression<'_>) -> Option<String> {
    if binary.operator != BinaryOperator::Addition {
        return None;
    }
    let mut text = piece(&binary.left)?;
    text.push_str(&piece(&binary.right)?);
    (text.len() <= MAX_FOLDED).then_some(text)
}

fn piece(expression: &Expression<'_>) -> Option<String> {
    match expression.without_parentheses() {
        Expression::BinaryExpression(binary) => joined(binary),
        other => literal(other).map(str::to_owned),
    }
}

/// A string literal's value; not one with lone surrogates, whose value is encoded.
fn literal<'e>(expression: &'e Expression<'_>) -> Option<&'e str> {
    match expression {
        Expression::StringLiteral(literal) if !literal.lone_surrogates => {
            Some(literal.value.as_str())
        }
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
        // A sum that starts with a value keeps its literal tail apart.
        assert_eq!(fold(r#"x + "a" + "b";"#), None);
    }

    #[test]
    fn quotes_and_line_breaks_inside_stay_literal() {
        assert_eq!(
            fold(r#"s = "say \"" + 'hi\n';"#).as_deref(),
            Some(r#"s = "say \"hi\n";"#)
        );
    }
}
