//! String tables: the way obfuscators (javascript-obfuscator, the most common in
//! npm malware, and its older releases) hide every literal of a file.
//!
//! The literals move into one array, which a start-up function rotates until a
//! checksum of `parseInt`s over its elements matches (or by a fixed count), and
//! each use becomes a call of a decoder: `_0x2775(0x90)` is element `0x90 - 0x89`
//! of the rotated array, maybe base64- or RC4-encoded. This module finds the
//! arrays, the rotations and the decoders without running anything: it evaluates
//! the checksum's arithmetic for each rotation, as the start-up loop would, and
//! decodes the way the decoder templates do. The flow then sees
//! `require(_0x2775(0x90))` as `require('got')`.
//!
//! A plain array of literals indexed by a number (`_0xf9a0[14]`) is a table too,
//! when nothing in the file changes it.

use std::collections::{HashMap, HashSet};

use oxc_ast::ast::{
    Argument, ArrayExpressionElement, AssignmentTarget, BindingPattern, CallExpression, Expression,
    Function, Program, Statement, VariableDeclarator,
};
use oxc_ast_visit::{Visit, walk};
use oxc_syntax::operator::{AssignmentOperator, BinaryOperator, UnaryOperator};
use oxc_syntax::scope::ScopeFlags;

/// The alphabet javascript-obfuscator's base64 decoder uses (lower case first).
const OBFUSCATOR_ALPHABET: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=";

/// Arrays longer than this are not searched for their rotation.
const MAX_ROTATION_SEARCH: usize = 20_000;

/// How a decoder turns an element into the literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Plain,
    Base64,
    /// Base64, then RC4 with the key each call passes.
    Rc4,
}

#[derive(Clone, Debug)]
struct Decoder {
    /// The array (or the function returning it) the decoder reads.
    array: String,
    offset: f64,
    encoding: Encoding,
}

/// The string tables of one file.
#[derive(Debug, Default)]
pub(crate) struct StringTables {
    arrays: HashMap<String, Vec<String>>,
    decoders: HashMap<String, Decoder>,
    aliases: HashMap<String, String>,
    /// A webpack bundle's modules that only re-export a Node module (`/* 73 */
    /// function (module, exports) { module.exports = require("child_process") }`),
    /// by id, and the names its module functions call to load one (`__webpack_require__`).
    externals: HashMap<u64, String>,
    loaders: HashSet<String>,
}

impl StringTables {
    /// Finds the tables of `program`; cheap when the file has none.
    pub(crate) fn of(program: &Program<'_>) -> Self {
        let mut collector = Collector::default();
        collector.visit_program(program);
        let mut tables = collector.resolve();
        if !tables.is_empty() {
            // Rotations run at start-up, before any use: apply them, now that
            // the arrays and decoders they read are known (the template declares
            // the array function last).
            let mut rotator = Rotator {
                tables: &mut tables,
                done: HashSet::new(),
            };
            rotator.visit_program(program);
            tables.arrays.retain(|_, array| !array.is_empty());
        }
        tables
    }

    /// `name[index]` of a table array.
    pub(crate) fn element(&self, name: &str, index: f64) -> Option<String> {
        let array = self.arrays.get(name)?;
        array.get(usize_index(index)?).cloned()
    }

    /// `name(index, key)` of a decoder (or an alias of one).
    pub(crate) fn call(&self, name: &str, index: f64, key: Option<&str>) -> Option<String> {
        let decoder = self.decoder(name)?;
        let array = self.arrays.get(&decoder.array)?;
        lookup(array, decoder, index, key)
    }

    /// Whether `name` is a decoder, directly or through aliases.
    fn decoder(&self, name: &str) -> Option<&Decoder> {
        let mut current = name;
        for _ in 0..8 {
            if let Some(decoder) = self.decoders.get(current) {
                return Some(decoder);
            }
            current = self.aliases.get(current)?;
        }
        None
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.arrays.is_empty() && self.externals.is_empty()
    }

    /// The Node module a bundle's `loader(id)` call returns, when module `id` only
    /// re-exports one.
    pub(crate) fn external(&self, loader: &str, id: f64) -> Option<&str> {
        if !self.loaders.contains(loader) {
            return None;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked to be a small non-negative integer first"
        )]
        let id = (id.fract() == 0.0 && (0.0..1e9).contains(&id)).then_some(id as u64)?;
        self.externals.get(&id).map(String::as_str)
    }
}

/// The element a decoder returns for `index` from `array`.
fn lookup(array: &[String], decoder: &Decoder, index: f64, key: Option<&str>) -> Option<String> {
    let element = array.get(usize_index(index - decoder.offset)?)?;
    match decoder.encoding {
        Encoding::Plain => Some(element.clone()),
        Encoding::Base64 => obfuscator_base64(element),
        Encoding::Rc4 => rc4(&obfuscator_base64(element)?, key?),
    }
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "checked to be a small non-negative integer first"
)]
fn usize_index(index: f64) -> Option<usize> {
    (index.fract() == 0.0 && (0.0..1e9).contains(&index)).then_some(index as usize)
}

/// The index argument of a decoder call: a number, or a string holding one
/// (older releases call `_0x5678('0x1f')`).
pub(crate) fn index_argument(argument: Option<&Argument<'_>>) -> Option<f64> {
    match argument?.as_expression()?.without_parentheses() {
        Expression::NumericLiteral(number) => Some(number.value),
        Expression::StringLiteral(text) => js_number(text.value.as_str()),
        Expression::UnaryExpression(unary) if unary.operator == UnaryOperator::UnaryNegation => {
            match unary.argument.without_parentheses() {
                Expression::NumericLiteral(number) => Some(-number.value),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `Number(text)` for the shapes obfuscators write: decimal or `0x` hex.
fn js_number(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok().map(f64::from);
    }
    text.parse().ok()
}

/// JavaScript's `parseInt(text)`: the leading integer, `NaN` when there is none.
fn parse_int(text: &str) -> f64 {
    let text = text.trim_start();
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    if let Some(hex) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        let digits: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
        return if digits.is_empty() {
            f64::NAN
        } else {
            digits.chars().fold(0.0, |acc, digit| {
                acc * 16.0 + f64::from(digit.to_digit(16).unwrap_or(0))
            }) * sign
        };
    }
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return f64::NAN;
    }
    digits.chars().fold(0.0, |acc, digit| {
        acc * 10.0 + f64::from(digit.to_digit(10).unwrap_or(0))
    }) * sign
}

/// javascript-obfuscator's base64: its own alphabet, then `decodeURIComponent` of
/// the bytes (UTF-8).
fn obfuscator_base64(text: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    for character in text.chars() {
        let Some(value) = OBFUSCATOR_ALPHABET.find(character) else {
            continue;
        };
        if value == 64 {
            break;
        }
        bits = (bits << 6) | u32::try_from(value).ok()?;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push(u8::try_from((bits >> count) & 0xff).ok()?);
        }
    }
    String::from_utf8(bytes).ok()
}

/// javascript-obfuscator's RC4 over the UTF-16 code units of `text`.
fn rc4(text: &str, key: &str) -> Option<String> {
    let key: Vec<u16> = key.encode_utf16().collect();
    if key.is_empty() {
        return None;
    }
    let mut state: Vec<usize> = (0..256).collect();
    let mut j = 0usize;
    for i in 0..256 {
        j = (j + state[i] + usize::from(key[i % key.len()])) % 256;
        state.swap(i, j);
    }
    let (mut i, mut j) = (0usize, 0usize);
    let mut out = Vec::new();
    for unit in text.encode_utf16() {
        i = (i + 1) % 256;
        j = (j + state[i]) % 256;
        state.swap(i, j);
        let k = u16::try_from(state[(state[i] + state[j]) % 256]).ok()?;
        out.push(unit ^ k);
    }
    String::from_utf16(&out).ok()
}

struct DecoderCandidate {
    name: String,
    offset: f64,
    encoding: Encoding,
    referenced: Vec<String>,
}

#[derive(Default)]
struct Collector {
    arrays: HashMap<String, Vec<String>>,
    array_functions: HashMap<String, Vec<String>>,
    /// Names declared more than once: ambiguous, never folded.
    declared_twice: HashSet<String>,
    declared: HashSet<String>,
    mutated: HashSet<String>,
    decoders: Vec<DecoderCandidate>,
    aliases: HashMap<String, String>,
    externals: HashMap<u64, String>,
    loaders: HashSet<String>,
}

impl Collector {
    fn declare(&mut self, name: &str) {
        if !self.declared.insert(name.to_owned()) {
            self.declared_twice.insert(name.to_owned());
        }
    }

    /// A function with no parameters whose first statement declares an array of
    /// literals it returns: the newer releases' array function.
    fn array_function(function: &Function<'_>) -> Option<Vec<String>> {
        if !function.params.items.is_empty() {
            return None;
        }
        let body = function.body.as_ref()?;
        let Some(Statement::VariableDeclaration(declaration)) = body.statements.first() else {
            return None;
        };
        let init = declaration.declarations.first()?.init.as_ref()?;
        literal_array(init)
    }

    /// A function with parameters that subtracts a constant from one of them and
    /// reads an array: a decoder.
    fn decoder_candidate(name: &str, function: &Function<'_>) -> Option<DecoderCandidate> {
        if function.params.items.is_empty() || function.params.items.len() > 3 {
            return None;
        }
        let body = function.body.as_ref()?;
        let mut inside = DecoderScan::default();
        inside.visit_function_body(body);
        let offset = inside.offset?;
        let encoding = match (inside.alphabet, inside.uses_256) {
            (false, _) => Encoding::Plain,
            (true, false) => Encoding::Base64,
            (true, true) => Encoding::Rc4,
        };
        Some(DecoderCandidate {
            name: name.to_owned(),
            offset,
            encoding,
            referenced: inside.referenced,
        })
    }

    /// A bundle's module function: `(module, exports, load) => { module.exports =
    /// require("x") }` re-exports `x`; its third parameter is how modules load.
    fn bundle_module(&mut self, id: u64, function: &Function<'_>) {
        if let Some(load) = function.params.items.get(2)
            && let BindingPattern::BindingIdentifier(name) = &load.pattern
        {
            self.loaders.insert(name.name.as_str().to_owned());
        }
        let Some(body) = &function.body else {
            return;
        };
        let [Statement::ExpressionStatement(statement)] = body.statements.as_slice() else {
            return;
        };
        let Expression::AssignmentExpression(assignment) = &statement.expression else {
            return;
        };
        let exports_target = assignment
            .left
            .as_member_expression()
            .is_some_and(|member| {
                member.object().is_specific_id("module")
                    && member.static_property_name() == Some("exports")
            });
        if let (true, Expression::CallExpression(call)) =
            (exports_target, assignment.right.without_parentheses())
            && let Some(module) = call.common_js_require()
            && self.externals.len() < 10_000
        {
            self.externals.insert(id, module.value.as_str().to_owned());
        }
    }

    fn function(&mut self, name: &str, function: &Function<'_>) {
        if let Some(strings) = Self::array_function(function) {
            self.array_functions.insert(name.to_owned(), strings);
        } else if let Some(candidate) = Self::decoder_candidate(name, function) {
            self.decoders.push(candidate);
        }
    }

    /// Applies the rotations and links the decoders to their arrays.
    fn resolve(mut self) -> StringTables {
        for name in &self.mutated {
            self.arrays.remove(name);
        }
        for name in &self.declared_twice {
            self.arrays.remove(name);
            self.array_functions.remove(name);
        }
        let mut arrays = self.arrays;
        arrays.extend(self.array_functions);
        let decoders: HashMap<String, Decoder> = self
            .decoders
            .into_iter()
            .filter_map(|candidate| {
                let array = candidate
                    .referenced
                    .into_iter()
                    .find(|name| arrays.contains_key(name))?;
                Some((
                    candidate.name,
                    Decoder {
                        array,
                        offset: candidate.offset,
                        encoding: candidate.encoding,
                    },
                ))
            })
            .collect();
        let mut loaders = self.loaders;
        if !self.externals.is_empty() {
            loaders.insert("__webpack_require__".to_owned());
        }
        StringTables {
            arrays,
            decoders,
            aliases: self.aliases,
            externals: self.externals,
            loaders,
        }
    }
}

/// How many turns make the checksum equal `target`.
fn rotation_by_checksum(
    array: &[String],
    decoder: &Decoder,
    checksum: &Expression<'_>,
    target: f64,
) -> Option<usize> {
    if array.len() > MAX_ROTATION_SEARCH {
        return None;
    }
    let mut rotated = array.to_vec();
    for turns in 0..array.len() {
        let value = evaluate(checksum, &|index, key| {
            lookup(&rotated, decoder, index, key)
        });
        // The loop compares with `===`: the same doubles, the same operations.
        #[expect(clippy::float_cmp, reason = "JavaScript's === on numbers")]
        if value == target {
            return Some(turns);
        }
        rotated.rotate_left(1);
    }
    None
}

/// The checksum's arithmetic: numbers, `+ - * / %`, unary minus, and `parseInt`
/// of decoder calls; anything else is `NaN`, as a thrown error would skip the turn.
fn evaluate(
    expression: &Expression<'_>,
    table: &dyn Fn(f64, Option<&str>) -> Option<String>,
) -> f64 {
    match expression.without_parentheses() {
        Expression::NumericLiteral(number) => number.value,
        Expression::UnaryExpression(unary) => match unary.operator {
            UnaryOperator::UnaryNegation => -evaluate(&unary.argument, table),
            UnaryOperator::UnaryPlus => evaluate(&unary.argument, table),
            _ => f64::NAN,
        },
        Expression::BinaryExpression(binary) => {
            let (left, right) = (
                evaluate(&binary.left, table),
                evaluate(&binary.right, table),
            );
            match binary.operator {
                BinaryOperator::Addition => left + right,
                BinaryOperator::Subtraction => left - right,
                BinaryOperator::Multiplication => left * right,
                BinaryOperator::Division => left / right,
                BinaryOperator::Remainder => left % right,
                _ => f64::NAN,
            }
        }
        Expression::CallExpression(call) if is_parse_int(call) => {
            let Some(Expression::CallExpression(inner)) = call
                .arguments
                .first()
                .and_then(Argument::as_expression)
                .map(Expression::without_parentheses)
            else {
                return f64::NAN;
            };
            let Some(index) = index_argument(inner.arguments.first()) else {
                return f64::NAN;
            };
            let key = key_argument(inner.arguments.get(1));
            table(index, key).map_or(f64::NAN, |text| parse_int(&text))
        }
        _ => f64::NAN,
    }
}

/// The RC4 key argument of a decoder call.
pub(crate) fn key_argument<'a>(argument: Option<&'a Argument<'_>>) -> Option<&'a str> {
    match argument?.as_expression()?.without_parentheses() {
        Expression::StringLiteral(text) => Some(text.value.as_str()),
        _ => None,
    }
}

fn is_parse_int(call: &CallExpression<'_>) -> bool {
    match call.callee.without_parentheses() {
        Expression::Identifier(identifier) => identifier.name == "parseInt",
        callee => {
            callee
                .as_member_expression()
                .and_then(oxc_ast::ast::MemberExpression::static_property_name)
                == Some("parseInt")
        }
    }
}

/// The strings of an array expression made only of string literals (two or more).
fn literal_array(expression: &Expression<'_>) -> Option<Vec<String>> {
    let Expression::ArrayExpression(array) = expression.without_parentheses() else {
        return None;
    };
    if array.elements.len() < 2 {
        return None;
    }
    array
        .elements
        .iter()
        .map(|element| match element {
            ArrayExpressionElement::StringLiteral(text) => Some(text.value.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

/// What a decoder's body shows: the offset subtracted, whether it carries the
/// base64 alphabet and RC4's 256, and the names it reads.
#[derive(Default)]
struct DecoderScan {
    offset: Option<f64>,
    alphabet: bool,
    uses_256: bool,
    referenced: Vec<String>,
}

impl<'a> Visit<'a> for DecoderScan {
    fn visit_assignment_expression(&mut self, assignment: &oxc_ast::ast::AssignmentExpression<'a>) {
        if self.offset.is_none()
            && let AssignmentTarget::AssignmentTargetIdentifier(target) = &assignment.left
        {
            match (assignment.operator, assignment.right.without_parentheses()) {
                (AssignmentOperator::Subtraction, Expression::NumericLiteral(number)) => {
                    self.offset = Some(number.value);
                }
                (AssignmentOperator::Assign, Expression::BinaryExpression(binary))
                    if binary.operator == BinaryOperator::Subtraction
                        && matches!(binary.left.without_parentheses(), Expression::Identifier(left) if left.name == target.name) =>
                {
                    if let Expression::NumericLiteral(number) = binary.right.without_parentheses() {
                        self.offset = Some(number.value);
                    }
                }
                _ => {}
            }
        }
        walk::walk_assignment_expression(self, assignment);
    }

    fn visit_string_literal(&mut self, literal: &oxc_ast::ast::StringLiteral<'a>) {
        if literal.value.as_str() == OBFUSCATOR_ALPHABET {
            self.alphabet = true;
        }
    }

    fn visit_numeric_literal(&mut self, literal: &oxc_ast::ast::NumericLiteral<'a>) {
        #[expect(clippy::float_cmp, reason = "an exact literal")]
        if literal.value == 256.0 {
            self.uses_256 = true;
        }
    }

    fn visit_identifier_reference(&mut self, identifier: &oxc_ast::ast::IdentifierReference<'a>) {
        if self.referenced.len() < 64 {
            self.referenced.push(identifier.name.as_str().to_owned());
        }
    }
}

/// Applies each start-up rotation to the array it turns.
struct Rotator<'t> {
    tables: &'t mut StringTables,
    /// Arrays already turned: a rotation runs once.
    done: HashSet<String>,
}

impl Rotator<'_> {
    /// Turns `array_name` as the rotation function `body` would. A rotation found by
    /// its shape alone (`inferred`: a minifier inlined its arguments) that does not
    /// check out leaves the array as it was, for the real rotation to turn.
    fn rotate(
        &mut self,
        array_name: &str,
        count: f64,
        body: &oxc_ast::ast::FunctionBody<'_>,
        inferred: bool,
    ) {
        let mut scan = RotationScan::default();
        scan.visit_function_body(body);
        if !scan.moves || self.done.contains(array_name) {
            return;
        }
        let Some(array) = self.tables.arrays.get(array_name) else {
            return;
        };
        if array.is_empty() {
            return;
        }
        let turns = if scan.checksum.is_some() {
            let decoder = self
                .tables
                .decoders
                .values()
                .find(|decoder| decoder.array == array_name);
            let mut found = None;
            if let Some(decoder) = decoder {
                let mut checksum = ChecksumEval {
                    array,
                    decoder,
                    target: count,
                    evaluated: false,
                    found: None,
                };
                checksum.visit_function_body(body);
                found = checksum.found;
            }
            found
        } else {
            usize_index(count).map(|count| count % array.len())
        };
        let array = self
            .tables
            .arrays
            .get_mut(array_name)
            .expect("looked up above");
        match turns {
            Some(turns) => array.rotate_left(turns),
            None if inferred => return,
            // Not found: the table stays unknown rather than wrong.
            None => array.clear(),
        }
        self.done.insert(array_name.to_owned());
    }
}

impl<'a> Visit<'a> for Rotator<'_> {
    fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
        // `(function (array, count) {…})(_0x18d2, 0x37568)`.
        if let Expression::FunctionExpression(function) = call.callee.without_parentheses()
            && call.arguments.len() == 2
            && let (Some(Expression::Identifier(array)), Some(count)) = (
                call.arguments[0].as_expression(),
                index_argument(call.arguments.get(1)),
            )
            && let Some(body) = &function.body
        {
            self.rotate(array.name.as_str(), count, body, false);
        } else if let Expression::FunctionExpression(function) = call.callee.without_parentheses()
            && call.arguments.len() <= 1
            && let Some(body) = &function.body
        {
            // A minifier's inlined form: `!function () { const n = _0x18d2(); for (;;)
            // try { if (226664 == parseInt(…) …) break; n.push(n.shift()) } … }()`.
            let mut inlined = InlinedRotation::default();
            // `!function (t) { … r = t() … }(_0x4f12)`: the array passed in.
            if let Some(Expression::Identifier(array)) =
                call.arguments.first().and_then(Argument::as_expression)
            {
                inlined.names.push(array.name.as_str().to_owned());
            }
            inlined.visit_function_body(body);
            if let Some(target) = inlined.target
                && let Some(array) = inlined
                    .names
                    .iter()
                    .find(|name| self.tables.arrays.contains_key(*name))
                    .cloned()
            {
                self.rotate(&array, target, body, true);
            }
        }
        walk::walk_call_expression(self, call);
    }
}

/// In a rotation function whose arguments were inlined: the checksum's target (the
/// number it is compared with) and the names it reads.
#[derive(Default)]
struct InlinedRotation {
    target: Option<f64>,
    names: Vec<String>,
}

impl<'a> Visit<'a> for InlinedRotation {
    fn visit_binary_expression(&mut self, binary: &oxc_ast::ast::BinaryExpression<'a>) {
        if self.target.is_none()
            && matches!(
                binary.operator,
                BinaryOperator::Equality | BinaryOperator::StrictEquality
            )
        {
            let (left, right) = (
                binary.left.without_parentheses(),
                binary.right.without_parentheses(),
            );
            self.target = match (left, right) {
                (Expression::NumericLiteral(number), other)
                | (other, Expression::NumericLiteral(number))
                    if contains_parse_int(other) =>
                {
                    Some(number.value)
                }
                _ => None,
            };
        }
        walk::walk_binary_expression(self, binary);
    }

    fn visit_identifier_reference(&mut self, identifier: &oxc_ast::ast::IdentifierReference<'a>) {
        if self.names.len() < 64 {
            self.names.push(identifier.name.as_str().to_owned());
        }
    }
}

/// Evaluates the first `parseInt` checksum of a rotation function for each turn.
struct ChecksumEval<'t> {
    array: &'t [String],
    decoder: &'t Decoder,
    target: f64,
    /// Whether a checksum was evaluated, and the turns it found (if any).
    evaluated: bool,
    found: Option<usize>,
}

impl<'a> Visit<'a> for ChecksumEval<'_> {
    fn visit_expression(&mut self, expression: &Expression<'a>) {
        if !self.evaluated
            && !matches!(expression.without_parentheses(), Expression::CallExpression(call) if is_parse_int(call))
            && contains_parse_int(expression)
            && is_arithmetic(expression)
        {
            self.evaluated = true;
            self.found = rotation_by_checksum(self.array, self.decoder, expression, self.target);
            return;
        }
        walk::walk_expression(self, expression);
    }
}

/// Whether an expression is arithmetic over numbers and calls (the checksum's
/// shape), not the comparison or the loop around it.
fn is_arithmetic(expression: &Expression<'_>) -> bool {
    match expression.without_parentheses() {
        Expression::BinaryExpression(binary) => matches!(
            binary.operator,
            BinaryOperator::Addition
                | BinaryOperator::Subtraction
                | BinaryOperator::Multiplication
                | BinaryOperator::Division
                | BinaryOperator::Remainder
        ),
        Expression::UnaryExpression(unary) => matches!(
            unary.operator,
            UnaryOperator::UnaryNegation | UnaryOperator::UnaryPlus
        ),
        _ => false,
    }
}

/// Whether a rotation function has a `parseInt` checksum, and whether it moves
/// elements (`push`, `shift`).
#[derive(Default)]
struct RotationScan {
    checksum: Option<()>,
    moves: bool,
}

impl<'a> Visit<'a> for RotationScan {
    fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
        if is_parse_int(call) {
            self.checksum = Some(());
        }
        walk::walk_call_expression(self, call);
    }

    fn visit_string_literal(&mut self, literal: &oxc_ast::ast::StringLiteral<'a>) {
        if matches!(literal.value.as_str(), "push" | "shift") {
            self.moves = true;
        }
    }

    fn visit_identifier_name(&mut self, name: &oxc_ast::ast::IdentifierName<'a>) {
        if matches!(name.name.as_str(), "push" | "shift") {
            self.moves = true;
        }
    }
}

fn contains_parse_int(expression: &Expression<'_>) -> bool {
    #[derive(Default)]
    struct Finder(bool);
    impl<'a> Visit<'a> for Finder {
        fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
            if is_parse_int(call) {
                self.0 = true;
            }
            walk::walk_call_expression(self, call);
        }
    }
    let mut finder = Finder::default();
    finder.visit_expression(expression);
    finder.0
}

impl<'a> Visit<'a> for Collector {
    fn visit_array_expression(&mut self, array: &oxc_ast::ast::ArrayExpression<'a>) {
        // Webpack's module list: functions by position (`/* 73 */`).
        if array.elements.len() >= 2 {
            for (id, element) in array.elements.iter().enumerate() {
                if let Some(Expression::FunctionExpression(function)) =
                    element.as_expression().map(Expression::without_parentheses)
                {
                    self.bundle_module(id as u64, function);
                }
            }
        }
        walk::walk_array_expression(self, array);
    }

    fn visit_object_expression(&mut self, object: &oxc_ast::ast::ObjectExpression<'a>) {
        // Webpack's module map: functions by numeric id (`73: function (…) {…}`).
        for property in &object.properties {
            if let oxc_ast::ast::ObjectPropertyKind::ObjectProperty(property) = property
                && let oxc_ast::ast::PropertyKey::NumericLiteral(key) = &property.key
                && key.value.fract() == 0.0
                && (0.0..1e9).contains(&key.value)
                && let Expression::FunctionExpression(function) =
                    property.value.without_parentheses()
            {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "checked to be a small non-negative integer"
                )]
                self.bundle_module(key.value as u64, function);
            }
        }
        walk::walk_object_expression(self, object);
    }

    fn visit_variable_declarator(&mut self, declarator: &VariableDeclarator<'a>) {
        if let BindingPattern::BindingIdentifier(identifier) = &declarator.id {
            let name = identifier.name.as_str();
            self.declare(name);
            match declarator
                .init
                .as_ref()
                .map(Expression::without_parentheses)
            {
                Some(init @ Expression::ArrayExpression(_)) => {
                    if let Some(strings) = literal_array(init) {
                        self.arrays.insert(name.to_owned(), strings);
                    }
                }
                Some(Expression::Identifier(other)) => {
                    self.aliases
                        .insert(name.to_owned(), other.name.as_str().to_owned());
                }
                Some(Expression::FunctionExpression(function)) => self.function(name, function),
                _ => {}
            }
        }
        walk::walk_variable_declarator(self, declarator);
    }

    fn visit_function(&mut self, function: &Function<'a>, flags: ScopeFlags) {
        if let Some(id) = &function.id {
            let name = id.name.as_str().to_owned();
            self.declare(&name);
            self.function(&name, function);
        }
        walk::walk_function(self, function, flags);
    }

    fn visit_assignment_expression(&mut self, assignment: &oxc_ast::ast::AssignmentExpression<'a>) {
        match &assignment.left {
            AssignmentTarget::AssignmentTargetIdentifier(target) => {
                // The array function replacing itself (`_0x18d2 = function () {…}`)
                // is part of the template; any other assignment changes the array.
                if !matches!(
                    assignment.right.without_parentheses(),
                    Expression::FunctionExpression(_)
                ) {
                    self.mutated.insert(target.name.as_str().to_owned());
                }
            }
            target => {
                if let Some(member) = target.as_member_expression()
                    && let Expression::Identifier(object) = member.object().without_parentheses()
                {
                    self.mutated.insert(object.name.as_str().to_owned());
                }
            }
        }
        walk::walk_assignment_expression(self, assignment);
    }

    fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
        // `x.push(…)`, `x['shift']()`: the array changes.
        if let Some(member) = call.callee.without_parentheses().as_member_expression()
            && let Expression::Identifier(object) = member.object().without_parentheses()
            && let Some(method) = member.static_property_name().or_else(|| match member {
                oxc_ast::ast::MemberExpression::ComputedMemberExpression(computed) => {
                    match computed.expression.without_parentheses() {
                        Expression::StringLiteral(text) => Some(text.value.as_str()),
                        _ => None,
                    }
                }
                _ => None,
            })
            && matches!(
                method,
                "push" | "shift" | "unshift" | "pop" | "splice" | "sort" | "reverse" | "fill"
            )
        {
            self.mutated.insert(object.name.as_str().to_owned());
        }
        walk::walk_call_expression(self, call);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(source: &str) -> StringTables {
        let allocator = oxc_allocator::Allocator::default();
        let parsed =
            oxc_parser::Parser::new(&allocator, source, oxc_span::SourceType::cjs()).parse();
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        StringTables::of(&parsed.program)
    }

    /// The shape of javascript-obfuscator 4 with default settings (rotation by
    /// checksum, plain strings), written for this test.
    const ROTATED: &str = r"
function _0xa(){const _0xs=['3a','1b','2c','4d','5e'];_0xa=function(){return _0xs;};return _0xa();}
function _0xd(_0xi,_0xk){const _0xr=_0xa();return _0xd=function(_0xj,_0xl){_0xj=_0xj-0x10;let _0xv=_0xr[_0xj];return _0xv;},_0xd(_0xi,_0xk);}
(function(_0xf,_0xt){const _0xg=_0xd,_0xq=_0xf();while(!![]){try{const _0xc=parseInt(_0xg(0x10))/0x1+parseInt(_0xg(0x12))*0x2+-parseInt(_0xg(0x14));if(_0xc===_0xt)break;else _0xq['push'](_0xq['shift']());}catch(_0xe){_0xq['push'](_0xq['shift']());}}}(_0xa,0x6));
const _0xz=_0xd;
";

    #[test]
    fn a_rotated_table_is_found_by_its_checksum() {
        let tables = tables(ROTATED);
        // p(0) + 2 p(2) - p(4) over the turns of [3a 1b 2c 4d 5e]: 2, 6, 11, 8, 3;
        // only one turn gives the 6 the loop waits for.
        let element = |index: u32| tables.call("_0xz", f64::from(index), None);
        assert_eq!(element(0x10).as_deref(), Some("1b"));
        assert_eq!(element(0x14).as_deref(), Some("3a"));
        assert_eq!(element(0x15), None);
    }

    /// The same table after a minifier: the rotation's arguments inlined (the array
    /// read in the body, the target in the comparison), the decoder folded into
    /// `return r[t -= 16]`, the names mangled.
    const ROTATED_MINIFIED: &str = r"
function a(){const t=['3a','1b','2c','4d','5e'];return(a=function(){return t})()}
function d(t,n){const r=a();return(d=function(t,n){return r[t-=16]})(t,n)}
!function(){const t=d,n=a();for(;;)try{if(6===parseInt(t(16))/1+2*parseInt(t(18))+-parseInt(t(20)))break;n.push(n.shift())}catch(t){n.push(n.shift())}}();
";

    #[test]
    fn a_minified_rotation_is_found_by_its_checksum() {
        let tables = tables(ROTATED_MINIFIED);
        let element = |index: u32| tables.call("d", f64::from(index), None);
        assert_eq!(element(16).as_deref(), Some("1b"));
        assert_eq!(element(20).as_deref(), Some("3a"));
    }

    #[test]
    fn a_wrapper_around_a_rotation_does_not_wipe_its_table() {
        // The whole file in an argument-less function whose first comparison with a
        // number has nothing to do with the table: the real rotation inside still turns it.
        let wrapped =
            format!("!function(){{if(parseInt(process.versions.node)===12)return;{ROTATED}}}();");
        let tables = tables(&wrapped);
        let element = |index: u32| tables.call("_0xz", f64::from(index), None);
        assert_eq!(element(0x10).as_deref(), Some("1b"));
    }

    #[test]
    fn a_plain_array_indexed_by_numbers_is_a_table_unless_it_changes() {
        let tables_found = tables("var _0xf=['dns','os','env'];require(_0xf[0]);");
        assert_eq!(tables_found.element("_0xf", 1.0).as_deref(), Some("os"));
        let changed = tables("var parts=['a','b'];parts.push('c');");
        assert_eq!(changed.element("parts", 0.0), None);
    }

    #[test]
    fn an_older_fixed_rotation_and_string_indices() {
        let source = "var _0x12=['b','c','a'];(function(_0xa,_0xb){var _0xc=function(_0xd){while(--_0xd){_0xa['push'](_0xa['shift']());}};_0xc(++_0xb);}(_0x12,0x1));var _0x34=function(_0xa,_0xb){_0xa=_0xa-0x0;var _0xc=_0x12[_0xa];return _0xc;};";
        let tables = tables(source);
        assert_eq!(
            tables
                .call("_0x34", js_number("0x0").unwrap(), None)
                .as_deref(),
            Some("c")
        );
        assert_eq!(tables.call("_0x34", 2.0, None).as_deref(), Some("b"));
    }

    #[test]
    fn base64_and_rc4_decoding_match_the_templates() {
        // `hello` in javascript-obfuscator's alphabet (standard base64 with the
        // letter cases swapped): standard "aGVsbG8" -> "AgvSBg8".
        assert_eq!(obfuscator_base64("AgvSBg8").as_deref(), Some("hello"));
        // RC4 is its own inverse.
        let secret = rc4("require", "k3y").unwrap();
        assert_eq!(rc4(&secret, "k3y").as_deref(), Some("require"));
    }

    #[test]
    fn parse_int_reads_a_leading_integer_like_javascript() {
        assert!((parse_int("663885ZKePbb") - 663_885.0).abs() < f64::EPSILON);
        assert!(parse_int("abc").is_nan());
        assert!((parse_int(" -12x") + 12.0).abs() < f64::EPSILON);
    }
}
