//! Data flow inside one file: where values come from and where they go.
//!
//! oxc's semantic analysis resolves every identifier to its symbol, so the flow can
//! follow a value through variables whatever they are called. Each variable, each
//! function's return value, the file's exports, and each sink is a node of a graph;
//! an assignment, a declaration, a return, an argument bound to a parameter, or an
//! argument handed to a sink is an edge from the nodes its value reads to the node
//! it writes. Sources (`os.hostname()`, `process.env`, a file read, a string that
//! names a host) seed kinds at nodes; [`super::graph`] links the files of a package
//! together and spreads the kinds along the edges.
//!
//! The model is deliberately coarse where precision would cost more than it gives:
//! it ignores order (a variable holds everything ever assigned to it), an object
//! holds all its properties, and an unknown call passes on its arguments and its
//! receiver. What it does not do is lose a value through a helper function, a
//! template, a serialiser or another file of the package.

use std::collections::{HashMap, HashSet};

use oxc_ast::ast::{
    Argument, ArrayExpressionElement, ArrowFunctionExpression, AssignmentExpression,
    AssignmentTarget, BindingPattern, CallExpression, ChainElement, ExportAllDeclaration,
    ExportDeclaration, ExportDefaultDeclaration, ExportDefaultDeclarationKind,
    ExportFromDeclaration, ExportNamedDeclaration, Expression, ForInStatement, ForOfStatement,
    ForStatementLeft, Function, IdentifierReference, ImportDeclaration, ImportDeclarationSpecifier,
    MemberExpression, ModuleExportName, NewExpression, ObjectExpression, ObjectPropertyKind,
    PropertyKey, ReturnStatement, VariableDeclarator,
};
use oxc_ast_visit::{Visit, walk};
use oxc_semantic::Scoping;
use oxc_span::{GetSpan, Span};
use oxc_syntax::operator::{BinaryOperator, LogicalOperator, UnaryOperator};
use oxc_syntax::scope::ScopeFlags;
use oxc_syntax::symbol::SymbolId;

use super::apis::{self, Role, SinkKind};
use super::graph::IntMap;
use super::kinds::{Kind, Mask};
use super::literals::{self, HostClass};
use super::strings;

/// A node of a file's flow graph.
pub(crate) type Node = u32;

/// What a node stands for, to name it in a trail.
#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    Variable,
    /// The result of calling a function (its `return`s).
    Return,
    Exports,
    ExportMember,
    /// What `require` of a file of the package gives.
    Import,
    /// A value reshaped on the way: a file's contents from its path.
    Transfer(Transfer),
    Sink,
}

/// How a transfer node turns what reaches it into what leaves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transfer {
    /// Reading a file: the path's kinds decide what the contents are.
    ReadFile,
    /// Running a command: its output, and who the machine is when the command asks.
    CommandOutput,
    /// Building a path from a directory and named parts: the home directory joined
    /// with `.cache/x` is a place in it, not the home directory.
    SubPath,
}

#[derive(Clone, Debug)]
pub(crate) struct NodeInfo {
    pub(crate) name: String,
    pub(crate) kind: NodeKind,
}

/// Where some kinds enter the graph: a call, a read, a literal.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub(crate) kinds: Mask,
    pub(crate) line: u32,
    /// How the trail names it: `os.hostname()`, `"https://x.example/a"`.
    pub(crate) text: String,
    /// The host a literal names, with its class.
    pub(crate) host: Option<(String, HostClass)>,
}

/// A call that sends, runs or writes what it is given.
#[derive(Clone, Debug)]
pub(crate) struct SinkSite {
    pub(crate) node: Node,
    pub(crate) kind: SinkKind,
    /// The API, as resolved: `https.request`, `child_process.exec`.
    pub(crate) api: String,
    pub(crate) line: u32,
    pub(crate) snippet: String,
    /// Inside a function nobody calls at load time: runs only when called.
    pub(crate) in_function: bool,
    /// The innermost function around it that is not a callback or an IIFE, when
    /// there is one: the site runs at load when that function is called at load.
    pub(crate) owner: Option<u32>,
    /// The first argument, when it is a constant (a command, a path, a URL).
    pub(crate) constant: Option<String>,
    /// For a process, the command line with the values the flow cannot fold as
    /// `${name}` holes, when the first argument is not a constant.
    pub(crate) template: Option<String>,
    /// What a file write writes, when it is a constant (a script dropped to disk).
    pub(crate) content: Option<String>,
    /// For file operations: the node of the path operated on, and its source text;
    /// for processes, the source text of the program and its arguments.
    pub(crate) target: Option<Node>,
    pub(crate) target_text: String,
    /// For a process started with a parameter of a function around it (`function
    /// run(cmd) { exec(cmd) }`): the constants the file's calls pass there.
    pub(crate) forwarded: Vec<String>,
}

/// `require('./x')` (and `import`), seen from the importing file.
#[derive(Clone, Debug)]
pub(crate) struct ImportLink {
    pub(crate) node: Node,
    pub(crate) specifier: String,
    pub(crate) member: Option<String>,
    /// The value of calling the member, rather than the member itself.
    pub(crate) call: bool,
}

/// A call of another file's export: its arguments reach that function's parameters.
#[derive(Clone, Debug)]
pub(crate) struct ImportCall {
    pub(crate) specifier: String,
    pub(crate) member: Option<String>,
    pub(crate) arguments: Vec<Value>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct FunctionInfo {
    pub(crate) params: Vec<Node>,
    pub(crate) ret: Node,
}

/// A value as the flow sees it: the sources in it, and the nodes it reads.
#[derive(Clone, Debug, Default)]
pub(crate) struct Value {
    pub(crate) origins: Vec<u32>,
    pub(crate) reads: Vec<Node>,
    /// Read through a call the flow does not know: key material does not survive.
    pub(crate) lossy: Vec<Node>,
}

const VALUE_CAP: usize = 48;

impl Value {
    fn origin(origin: u32) -> Self {
        Self {
            origins: vec![origin],
            ..Self::default()
        }
    }

    fn read(node: Node) -> Self {
        Self {
            reads: vec![node],
            ..Self::default()
        }
    }

    fn add(&mut self, other: Self) {
        for (into, from) in [
            (&mut self.origins, other.origins),
            (&mut self.reads, other.reads),
            (&mut self.lossy, other.lossy),
        ] {
            for item in from {
                if into.len() >= VALUE_CAP {
                    break;
                }
                if !into.contains(&item) {
                    into.push(item);
                }
            }
        }
    }

    /// The same value, read through an unknown call.
    fn lossy(mut self) -> Self {
        self.lossy.append(&mut self.reads);
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.origins.is_empty() && self.reads.is_empty() && self.lossy.is_empty()
    }
}

/// The flow graph of one file, owned, ready to be linked with the others.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileFlow {
    pub(crate) nodes: Vec<NodeInfo>,
    pub(crate) origins: Vec<Origin>,
    /// (from, to, lossy).
    pub(crate) edges: Vec<(Node, Node, bool)>,
    /// (node, origin): kinds that start at a node.
    pub(crate) seeds: Vec<(Node, u32)>,
    pub(crate) sinks: Vec<SinkSite>,
    pub(crate) imports: Vec<ImportLink>,
    pub(crate) import_calls: Vec<ImportCall>,
    pub(crate) functions: Vec<FunctionInfo>,
    pub(crate) exports: Option<Node>,
    pub(crate) export_members: Vec<(String, Node)>,
    /// Exported functions by name; `""` is the module itself when it is a function.
    pub(crate) export_functions: Vec<(String, u32)>,
    /// Methods by name (class methods, object-literal functions, prototype members):
    /// `x.name(...)` calls are bound to them across the package by name.
    pub(crate) methods: Vec<(String, u32)>,
    /// `x.name(...)` calls: (name, the node of the call's result, the arguments).
    pub(crate) method_calls: Vec<(String, Node, Vec<Value>)>,
    /// Every relative module the file loads, also for its effects alone
    /// (`require('./x')`, `import './x'`): the files one module graph joins.
    pub(crate) links: Vec<String>,
}

impl FileFlow {
    /// Edges from everything `value` reads into `node`, and its origins seeded there.
    pub(crate) fn flow_into(&mut self, node: Node, value: &Value) {
        for origin in &value.origins {
            self.seeds.push((node, *origin));
        }
        for read in &value.reads {
            if *read != node {
                self.edges.push((*read, node, false));
            }
        }
        for read in &value.lossy {
            if *read != node {
                self.edges.push((*read, node, true));
            }
        }
    }

    fn node(&mut self, name: impl Into<String>, kind: NodeKind) -> Node {
        let id = Node::try_from(self.nodes.len()).unwrap_or(Node::MAX);
        self.nodes.push(NodeInfo {
            name: name.into(),
            kind,
        });
        id
    }
}

/// A module a symbol stands for: `require('m')`, or a member path of it.
#[derive(Clone, Debug)]
struct ModuleRef {
    module: String,
    path: String,
}

impl ModuleRef {
    fn qualified(&self) -> String {
        if self.path.is_empty() {
            self.module.clone()
        } else {
            format!("{}.{}", self.module, self.path)
        }
    }

    fn member(&self, name: &str) -> Self {
        Self {
            module: self.module.clone(),
            path: if self.path.is_empty() {
                name.to_owned()
            } else {
                format!("{}.{name}", self.path)
            },
        }
    }

    fn local(&self) -> bool {
        self.module.starts_with('.')
    }
}

/// A call whose callee is resolved once the whole file is seen (functions are
/// hoisted; a variable may be given its function later).
enum Callee {
    Symbol(SymbolId),
    FunctionAt(u32),
}

/// Builds a file's flow graph in one pass over its syntax tree.
pub(crate) struct FlowBuilder<'s> {
    source: &'s str,
    scoping: &'s Scoping,
    lines: &'s dyn Fn(u32) -> u32,
    flow: FileFlow,
    symbols: IntMap<SymbolId, Node>,
    modules: IntMap<SymbolId, ModuleRef>,
    /// Locals that hold `require` under another name (`var o = global.require ||
    /// process.mainModule.constructor._load`, `const r = createRequire(…)`).
    require_aliases: HashSet<SymbolId>,
    /// The first parameters of server request handlers (`http.createServer((e, t) =>
    /// …)`, `server.on('request', …)`): what a client sent, whatever its name.
    requests: HashSet<SymbolId>,
    constants: IntMap<SymbolId, String>,
    /// Strings built from literals and values the flow cannot fold, with the
    /// values as `${name}` holes: a command line assembled from parameters.
    templates: IntMap<SymbolId, String>,
    /// Functions by their span's start.
    functions: IntMap<u32, u32>,
    function_of_symbol: IntMap<SymbolId, u32>,
    /// Function spans that run where they are written (IIFEs, callbacks of calls).
    inline_functions: HashSet<u32>,
    function_stack: Vec<(u32, bool)>,
    /// Calls that create sink handles, by span start, and variables holding them.
    handle_calls: IntMap<u32, usize>,
    handles: IntMap<SymbolId, usize>,
    /// Results of calls and reads, by span start: one node or origin per site.
    call_results: IntMap<u32, Node>,
    /// Results of method calls bound by name, by span start.
    method_results: IntMap<u32, Node>,
    /// Undeclared variables the file assigns, by name, and those holding a module
    /// or a sink handle (sloppy code: `https = require('https')`, `r = https.request(…)`).
    globals: HashMap<String, Node>,
    /// Variables the file assigns members of (`options.port = p`): each member is a
    /// node of its own, and the whole object a node that gathers them, so reading
    /// `options.port` does not read what `options.check` holds.
    field_objects: HashSet<SymbolId>,
    whole_objects: IntMap<SymbolId, Node>,
    fields: HashMap<(SymbolId, String), Node>,
    global_modules: HashMap<String, ModuleRef>,
    global_handles: HashMap<String, usize>,
    /// Globals assigned a constant string (`_s = 'alphabet'` without a
    /// declaration); `None` once assigned two different values.
    global_constants: HashMap<String, Option<String>>,
    literal_origins: IntMap<u32, Option<u32>>,
    pending_calls: Vec<(Callee, Node, Vec<Value>)>,
    /// Processes started with a function's parameter: (function, position, sink).
    exec_params: Vec<(u32, usize, usize)>,
    /// Calls of the file's functions with the constants among their arguments.
    constant_calls: Vec<(Callee, Vec<Option<String>>)>,
    pending_callbacks: Vec<(u32, Value)>,
    /// Calls of the file's own functions, and functions handed to calls (timers,
    /// events, promises), from the function they are made in (`None`: the top level).
    calls: Vec<(Option<u32>, Callee)>,
    depth: u32,
    /// The file is about wallets (names one, a mnemonic or a keypair).
    wallet_file: bool,
    /// The file walks through the environment's names.
    enumerates_env: bool,
    /// The file listens to the keyboard (`keydown`, `onkeyup`, …).
    key_events: bool,
    /// Obfuscators' string tables: `_0x2775(0x90)` and `_0xf9a0[3]` are literals.
    tables: super::tables::StringTables,
}

/// How deep [`FlowBuilder::value_of`] follows one expression.
const MAX_DEPTH: u32 = 64;

impl<'s> FlowBuilder<'s> {
    pub(crate) fn new(
        source: &'s str,
        scoping: &'s Scoping,
        lines: &'s dyn Fn(u32) -> u32,
    ) -> Self {
        Self {
            source,
            scoping,
            lines,
            flow: FileFlow::default(),
            symbols: IntMap::default(),
            modules: IntMap::default(),
            require_aliases: HashSet::new(),
            requests: HashSet::new(),
            constants: IntMap::default(),
            templates: IntMap::default(),
            functions: IntMap::default(),
            function_of_symbol: IntMap::default(),
            inline_functions: HashSet::new(),
            function_stack: Vec::new(),
            handle_calls: IntMap::default(),
            handles: IntMap::default(),
            call_results: IntMap::default(),
            method_results: IntMap::default(),
            globals: HashMap::new(),
            field_objects: HashSet::new(),
            whole_objects: IntMap::default(),
            fields: HashMap::new(),
            global_modules: HashMap::new(),
            global_handles: HashMap::new(),
            global_constants: HashMap::new(),
            literal_origins: IntMap::default(),
            pending_calls: Vec::new(),
            exec_params: Vec::new(),
            constant_calls: Vec::new(),
            pending_callbacks: Vec::new(),
            calls: Vec::new(),
            depth: 0,
            wallet_file: [
                "wallet", "Wallet", "mnemonic", "Mnemonic", "keypair", "Keypair",
            ]
            .iter()
            .any(|word| memchr::memmem::find(source.as_bytes(), word.as_bytes()).is_some()),
            enumerates_env: [
                "keys(process.env)",
                "entries(process.env)",
                "in process.env",
                "values(process.env)",
            ]
            .iter()
            .any(|word| memchr::memmem::find(source.as_bytes(), word.as_bytes()).is_some()),
            key_events: ["keydown", "keyup", "keypress"]
                .iter()
                .any(|word| memchr::memmem::find(source.as_bytes(), word.as_bytes()).is_some()),
            tables: super::tables::StringTables::default(),
        }
    }

    fn table_literal_call(&self, call: &CallExpression<'_>) -> Option<String> {
        if self.tables.is_empty() {
            return None;
        }
        let Expression::Identifier(callee) = call.callee.without_parentheses() else {
            return None;
        };
        let index = super::tables::index_argument(call.arguments.first())?;
        let key = super::tables::key_argument(call.arguments.get(1));
        self.tables.call(callee.name.as_str(), index, key)
    }

    /// Reads obfuscated literals through `tables`.
    pub(crate) fn use_tables(&mut self, tables: super::tables::StringTables) {
        self.tables = tables;
    }

    /// The literal a string-table lookup stands for: `_0x2775(0x90)` (a decoder
    /// call) or `_0xf9a0[3]` (an element of a table array).
    fn table_literal(&self, expression: &Expression<'_>) -> Option<String> {
        if self.tables.is_empty() {
            return None;
        }
        match expression.without_parentheses() {
            Expression::CallExpression(call) => self.table_literal_call(call),
            Expression::ComputedMemberExpression(member) => {
                let Expression::Identifier(array) = member.object.without_parentheses() else {
                    return None;
                };
                let Expression::NumericLiteral(index) = member.expression.without_parentheses()
                else {
                    return None;
                };
                self.tables.element(array.name.as_str(), index.value)
            }
            _ => None,
        }
    }

    /// Resolves what could only be resolved once the file was seen.
    pub(crate) fn finish(mut self) -> FileFlow {
        let loaded = self.called_at_load();
        for site in &mut self.flow.sinks {
            site.in_function = site
                .owner
                .is_some_and(|function| !loaded.contains(&function));
        }
        for (callee, result, arguments) in std::mem::take(&mut self.pending_calls) {
            let functions: Vec<u32> = match callee {
                Callee::Symbol(symbol) => self
                    .function_of_symbol
                    .get(&symbol)
                    .copied()
                    .into_iter()
                    .collect(),
                Callee::FunctionAt(start) => {
                    self.functions.get(&start).copied().into_iter().collect()
                }
            };
            match functions.as_slice() {
                [_, ..] => {
                    for function in functions {
                        let info = self.flow.functions[function as usize].clone();
                        self.flow.edges.push((info.ret, result, false));
                        bind_parameters(&mut self.flow, &info.params, &arguments);
                    }
                }
                // A variable holding something the flow cannot see: its result
                // carries its arguments.
                [] => {
                    for argument in arguments {
                        self.flow.flow_into(result, &argument.lossy());
                    }
                }
            }
        }
        // Commands handed to the file's own command runners.
        for (callee, constants) in std::mem::take(&mut self.constant_calls) {
            let Callee::Symbol(symbol) = callee else {
                continue;
            };
            let Some(function) = self.function_of_symbol.get(&symbol).copied() else {
                continue;
            };
            for &(runner, position, sink) in &self.exec_params {
                if runner == function
                    && let Some(Some(command)) = constants.get(position)
                    && self.flow.sinks[sink].forwarded.len() < 32
                {
                    self.flow.sinks[sink].forwarded.push(command.clone());
                }
            }
        }
        for (start, value) in std::mem::take(&mut self.pending_callbacks) {
            if let Some(function) = self.functions.get(&start) {
                let params = self.flow.functions[*function as usize].params.clone();
                for param in params {
                    self.flow.flow_into(param, &value);
                }
            }
        }
        // Exported names bound to local functions.
        let exported: Vec<(String, Node)> = self.flow.export_members.clone();
        for (name, node) in exported {
            let function = self
                .symbols
                .iter()
                .find(|(_, symbol_node)| **symbol_node == node)
                .and_then(|(symbol, _)| self.function_of_symbol.get(symbol));
            if let Some(function) = function {
                self.flow.export_functions.push((name, *function));
            }
        }
        self.flow
    }

    fn line(&self, span: Span) -> u32 {
        (self.lines)(span.start)
    }

    fn snippet(&self, span: Span) -> String {
        let start = span.start as usize;
        let mut end = (span.end as usize).min(self.source.len()).min(start + 160);
        while end > start && !self.source.is_char_boundary(end) {
            end -= 1;
        }
        self.source.get(start..end).unwrap_or("").to_owned()
    }

    /// The innermost enclosing function that runs only when called.
    fn owner(&self) -> Option<u32> {
        self.function_stack
            .iter()
            .rev()
            .find(|(_, inline)| !inline)
            .map(|(index, _)| *index)
    }

    /// The functions that run when the file is loaded: called from the top level
    /// (`main()` at the end of a script), or from a function that is.
    fn called_at_load(&self) -> HashSet<u32> {
        let function = |callee: &Callee| match callee {
            Callee::Symbol(symbol) => self.function_of_symbol.get(symbol).copied(),
            Callee::FunctionAt(start) => self.functions.get(start).copied(),
        };
        let mut callees: IntMap<u32, Vec<u32>> = IntMap::default();
        let mut loaded: HashSet<u32> = HashSet::new();
        let mut queue: Vec<u32> = Vec::new();
        for (from, to) in &self.calls {
            let Some(to) = function(to) else {
                continue;
            };
            match from {
                None => {
                    if loaded.insert(to) {
                        queue.push(to);
                    }
                }
                Some(from) => callees.entry(*from).or_default().push(to),
            }
        }
        while let Some(from) = queue.pop() {
            for to in callees.get(&from).into_iter().flatten() {
                if loaded.insert(*to) {
                    queue.push(*to);
                }
            }
        }
        loaded
    }

    fn symbol_node(&mut self, symbol: SymbolId) -> Node {
        if let Some(node) = self.symbols.get(&symbol) {
            return *node;
        }
        let name = self.scoping.symbol_name(symbol).to_owned();
        let node = self.flow.node(name, NodeKind::Variable);
        self.symbols.insert(symbol, node);
        node
    }

    /// Before the walk: the variables whose members the file assigns.
    pub(crate) fn note_fields(&mut self, program: &oxc_ast::ast::Program<'_>) {
        let mut collector = FieldCollector {
            scoping: self.scoping,
            found: HashSet::new(),
        };
        collector.visit_program(program);
        self.field_objects = collector.found;
    }

    /// The whole of an object whose members are assigned: what the variable holds
    /// and every member.
    fn whole_object(&mut self, symbol: SymbolId) -> Node {
        if let Some(node) = self.whole_objects.get(&symbol) {
            return *node;
        }
        let base = self.symbol_node(symbol);
        let name = self.scoping.symbol_name(symbol).to_owned();
        let node = self.flow.node(name, NodeKind::Variable);
        self.flow.edges.push((base, node, false));
        self.whole_objects.insert(symbol, node);
        node
    }

    /// One member of such an object (`options.port`).
    fn field(&mut self, symbol: SymbolId, name: &str) -> Node {
        if let Some(node) = self.fields.get(&(symbol, name.to_owned())) {
            return *node;
        }
        let node = self.flow.node(
            format!("{}.{name}", self.scoping.symbol_name(symbol)),
            NodeKind::Variable,
        );
        let whole = self.whole_object(symbol);
        self.flow.edges.push((node, whole, false));
        self.fields.insert((symbol, name.to_owned()), node);
        node
    }

    /// `x.name` where `x` is such an object: its symbol and the member's name.
    fn field_of(&self, member: &MemberExpression<'_>) -> Option<(SymbolId, String)> {
        let MemberExpression::StaticMemberExpression(member) = member else {
            return None;
        };
        let Expression::Identifier(object) = member.object.without_parentheses() else {
            return None;
        };
        let symbol = self.reference_symbol(object)?;
        (self.field_objects.contains(&symbol) && !self.modules.contains_key(&symbol))
            .then(|| (symbol, member.property.name.as_str().to_owned()))
    }

    fn function_index(&mut self, start: u32, name: &str) -> u32 {
        if let Some(function) = self.functions.get(&start) {
            return *function;
        }
        let ret = self.flow.node(
            if name.is_empty() {
                "the result of a function".to_owned()
            } else {
                format!("{name}()")
            },
            NodeKind::Return,
        );
        let index = u32::try_from(self.flow.functions.len()).unwrap_or(u32::MAX);
        self.flow.functions.push(FunctionInfo {
            params: Vec::new(),
            ret,
        });
        self.functions.insert(start, index);
        index
    }

    fn origin(
        &mut self,
        kinds: Mask,
        span: Span,
        text: String,
        host: Option<(String, HostClass)>,
    ) -> u32 {
        let line = self.line(span);
        let index = u32::try_from(self.flow.origins.len()).unwrap_or(u32::MAX);
        self.flow.origins.push(Origin {
            kinds,
            line,
            text,
            host,
        });
        index
    }

    fn exports_node(&mut self) -> Node {
        if let Some(node) = self.flow.exports {
            return node;
        }
        let node = self.flow.node("module.exports", NodeKind::Exports);
        self.flow.exports = Some(node);
        node
    }

    fn export_member(&mut self, name: &str) -> Node {
        if let Some((_, node)) = self
            .flow
            .export_members
            .iter()
            .find(|(member, _)| member == name)
        {
            return *node;
        }
        let node = self
            .flow
            .node(format!("exports.{name}"), NodeKind::ExportMember);
        self.flow.export_members.push((name.to_owned(), node));
        node
    }

    fn reference_symbol(&self, identifier: &IdentifierReference<'_>) -> Option<SymbolId> {
        let reference = identifier.reference_id.get()?;
        self.scoping.get_reference(reference).symbol_id()
    }

    // ---- Names -------------------------------------------------------------

    /// The qualified name an expression stands for when it is a module, a member of
    /// one, or a global (`https.request`, `process.env.HOME`, `fetch`).
    fn qualified(&self, expression: &Expression<'_>) -> Option<String> {
        match expression.without_parentheses() {
            Expression::Identifier(identifier) => match self.reference_symbol(identifier) {
                Some(symbol) => self.modules.get(&symbol).map(ModuleRef::qualified),
                None => Some(
                    self.global_modules
                        .get(identifier.name.as_str())
                        .map_or_else(|| identifier.name.as_str().to_owned(), ModuleRef::qualified),
                ),
            },
            Expression::StaticMemberExpression(member) => {
                let object = self.qualified(&member.object)?;
                Some(format!("{object}.{}", member.property.name.as_str()))
            }
            Expression::ComputedMemberExpression(member) => {
                let object = self.qualified(&member.object)?;
                let key = self.constant(&member.expression, 0)?;
                Some(format!("{object}.{key}"))
            }
            Expression::CallExpression(call) => self.required_module(call),
            Expression::ChainExpression(chain) => match &chain.expression {
                ChainElement::StaticMemberExpression(member) => {
                    let object = self.qualified(&member.object)?;
                    Some(format!("{object}.{}", member.property.name.as_str()))
                }
                _ => None,
            },
            Expression::TSAsExpression(inner) => self.qualified(&inner.expression),
            Expression::TSNonNullExpression(inner) => self.qualified(&inner.expression),
            // `(0, cp.exec)(…)`, `(0, eval)(…)`: how TypeScript and Babel call an
            // imported function, and how code calls `eval` indirectly. The leading
            // literals only drop `this`.
            Expression::SequenceExpression(sequence) => match sequence.expressions.as_slice() {
                [leading @ .., last] if leading.iter().all(Expression::is_literal) => {
                    self.qualified(last)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// `require('x')` and `require(<constant>)`: the module name.
    fn required_module(&self, call: &CallExpression<'_>) -> Option<String> {
        // `__webpack_require__(73)`: a bundled module that re-exports a Node module.
        if let Expression::Identifier(loader) = call.callee.without_parentheses()
            && call.arguments.len() == 1
            && let Some(id) = super::tables::index_argument(call.arguments.first())
            && let Some(module) = self.tables.external(loader.name.as_str(), id)
        {
            return Some(module.to_owned());
        }
        if !self.is_require(&call.callee) || call.arguments.len() != 1 {
            return None;
        }
        let argument = call.arguments[0].as_expression()?;
        self.constant(argument, 0).map(|module| {
            module
                .strip_prefix("node:")
                .map_or_else(|| module.clone(), str::to_owned)
        })
    }

    /// Whether a callee is `require`: the global, a local of that name (bundles pass
    /// it in; droppers alias it, `var require = process.mainModule.constructor._load`),
    /// or reached through `module`, `process.mainModule` or `global`.
    fn is_require(&self, callee: &Expression<'_>) -> bool {
        match callee.without_parentheses() {
            Expression::Identifier(identifier) => {
                identifier.name == "require"
                    || self
                        .reference_symbol(identifier)
                        .is_some_and(|symbol| self.require_aliases.contains(&symbol))
            }
            callee => matches!(
                self.qualified(callee).as_deref(),
                Some(
                    "require"
                        | "module.require"
                        | "global.require"
                        | "globalThis.require"
                        | "process.mainModule.require"
                        | "process.mainModule.constructor._load"
                        | "global.process.mainModule.require"
                        | "global.process.mainModule.constructor._load"
                        | "module.constructor._load"
                )
            ),
        }
    }

    /// A value that is `require` itself: one of its names, either side of a
    /// fallback (`global.require || module.constructor._load`), or what
    /// `createRequire` returns.
    fn holds_require(&self, value: &Expression<'_>) -> bool {
        match value.without_parentheses() {
            Expression::LogicalExpression(logical) => {
                self.holds_require(&logical.left) || self.holds_require(&logical.right)
            }
            Expression::ConditionalExpression(conditional) => {
                self.holds_require(&conditional.consequent)
                    || self.holds_require(&conditional.alternate)
            }
            Expression::CallExpression(call) => matches!(
                self.qualified(&call.callee).as_deref(),
                Some("module.createRequire" | "createRequire")
            ),
            value => self.is_require(value),
        }
    }

    /// `http.createServer(handler)`, `server.on('request', handler)`: the handler's
    /// first parameter is the request.
    fn note_request_handler(&mut self, call: &CallExpression<'_>) {
        let serves = match self.qualified(&call.callee).as_deref() {
            Some(
                "http.createServer"
                | "https.createServer"
                | "http2.createServer"
                | "http2.createSecureServer",
            ) => true,
            _ => self
                .listens(&call.callee, &call.arguments, "request")
                .is_some(),
        };
        if !serves {
            return;
        }
        let handler = call.arguments.iter().rev().find_map(|argument| {
            match argument.as_expression()?.without_parentheses() {
                Expression::FunctionExpression(function) => function.params.items.first(),
                Expression::ArrowFunctionExpression(arrow) => arrow.params.items.first(),
                _ => None,
            }
        });
        if let Some(parameter) = handler
            && let Some(symbol) = parameter
                .pattern
                .get_binding_identifier()
                .and_then(|identifier| identifier.symbol_id.get())
        {
            self.requests.insert(symbol);
        }
    }

    /// `req.on('data', …)` (or `once`, `addListener`) on a server's incoming request.
    fn is_request_stream(&self, callee: &Expression<'_>, arguments: &[Argument<'_>]) -> bool {
        self.listens(callee, arguments, "data")
            .is_some_and(|object| self.is_request(object))
    }

    /// `x.on(event, …)` (or `once`, `addListener`, written out or computed): `x`.
    fn listens<'e, 'a>(
        &self,
        callee: &'e Expression<'a>,
        arguments: &[Argument<'_>],
        event: &str,
    ) -> Option<&'e Expression<'a>> {
        let member = callee.without_parentheses().as_member_expression()?;
        let method = match member.static_property_name() {
            Some(name) => name.to_owned(),
            None => match member {
                oxc_ast::ast::MemberExpression::ComputedMemberExpression(computed) => {
                    self.constant(&computed.expression, 0)?
                }
                _ => return None,
            },
        };
        let named = arguments
            .first()
            .and_then(Argument::as_expression)
            .and_then(|first| self.constant(first, 0));
        (matches!(method.as_str(), "on" | "once" | "addListener")
            && named.as_deref() == Some(event))
        .then(|| member.object())
    }

    /// A value that is a server's incoming request: a handler's first parameter, or
    /// a name only requests get.
    fn is_request(&self, expression: &Expression<'_>) -> bool {
        match expression.without_parentheses() {
            Expression::Identifier(object) => {
                matches!(object.name.as_str(), "req" | "request" | "incoming")
                    || self
                        .reference_symbol(object)
                        .is_some_and(|symbol| self.requests.contains(&symbol))
            }
            _ => false,
        }
    }

    /// The module a `require` or computed `require` call loads, `"?"` when the name
    /// cannot be computed.
    fn loaded_module(&self, expression: &Expression<'_>) -> Option<ModuleRef> {
        let mut path = Vec::new();
        let mut current = expression.without_parentheses();
        loop {
            match current {
                Expression::StaticMemberExpression(member) => {
                    path.push(member.property.name.as_str().to_owned());
                    current = member.object.without_parentheses();
                }
                Expression::ComputedMemberExpression(member) => {
                    path.push(self.constant(&member.expression, 0)?);
                    current = member.object.without_parentheses();
                }
                Expression::CallExpression(call) => {
                    let module = match self.required_module(call) {
                        Some(module) => module,
                        None if self.is_require(&call.callee) => "?".to_owned(),
                        None => return None,
                    };
                    path.reverse();
                    return Some(ModuleRef {
                        module,
                        path: path.join("."),
                    });
                }
                Expression::Identifier(identifier) => {
                    let base = match self.reference_symbol(identifier) {
                        Some(symbol) => self.modules.get(&symbol)?,
                        None => self.global_modules.get(identifier.name.as_str())?,
                    };
                    path.reverse();
                    let mut module = base.clone();
                    for part in path {
                        module = module.member(&part);
                    }
                    return Some(module);
                }
                _ => return None,
            }
        }
    }

    /// The role of a call's callee, through the table, then through distinctive
    /// member names on modules loaded by computed names.
    fn role_of(&self, callee: &Expression<'_>) -> (Option<String>, Option<Role>) {
        let Some(qualified) = self.qualified(callee) else {
            return (None, None);
        };
        if let Some(role) = apis::role(&qualified) {
            return (Some(qualified), Some(role));
        }
        if let Expression::Identifier(identifier) = callee.without_parentheses()
            && self.reference_symbol(identifier).is_none()
            && !self.global_modules.contains_key(identifier.name.as_str())
            && let Some(role) = apis::undeclared_role(&qualified)
        {
            return (Some(qualified), Some(role));
        }
        let computed_module = qualified.starts_with("?.");
        let member = qualified.rsplit('.').next().unwrap_or("");
        if (computed_module || qualified.contains('.'))
            && let Some(role) = apis::distinct_member_role(member)
            && (computed_module || !qualified.starts_with('.'))
        {
            return (Some(qualified), Some(role));
        }
        (Some(qualified), None)
    }

    // ---- Constants ---------------------------------------------------------

    /// The string an expression always evaluates to, when the flow can tell:
    /// literals, concatenation, constants, and the decoders obfuscators use
    /// (reversal, base64, hex, character codes, `join`).
    fn constant(&self, expression: &Expression<'_>, depth: u32) -> Option<String> {
        if depth > 16 {
            return None;
        }
        if let Some(text) = self.table_literal(expression) {
            return Some(text);
        }
        let result = match expression.without_parentheses() {
            Expression::StringLiteral(literal) => Some(literal.value.as_str().to_owned()),
            Expression::NumericLiteral(number) => Some(number.value.to_string()),
            Expression::TemplateLiteral(template) => {
                let mut text = String::new();
                for (index, quasi) in template.quasis.iter().enumerate() {
                    text.push_str(quasi_text(quasi));
                    if let Some(expression) = template.expressions.get(index) {
                        text.push_str(&self.constant(expression, depth + 1)?);
                    }
                }
                Some(text)
            }
            Expression::BinaryExpression(binary) if binary.operator == BinaryOperator::Addition => {
                // `a + b + c` nests to the left: walk that spine without counting
                // it as depth, so that a long chain folds.
                let mut text = String::new();
                for part in addition_parts(binary, 4096) {
                    text.push_str(&self.constant(part, depth + 1)?);
                }
                Some(text)
            }
            // `alphabet[12]`: one character picked from a constant string.
            Expression::ComputedMemberExpression(member) => {
                let Expression::NumericLiteral(index) = member.expression.without_parentheses()
                else {
                    return None;
                };
                let text = self.constant(&member.object, depth + 1)?;
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "an index into a string held in memory"
                )]
                let index = index.value as usize;
                text.chars().nth(index).map(String::from)
            }
            Expression::Identifier(identifier) => match self.reference_symbol(identifier) {
                Some(symbol) => self.constants.get(&symbol).cloned(),
                None => self
                    .global_constants
                    .get(identifier.name.as_str())
                    .cloned()
                    .flatten(),
            },
            Expression::CallExpression(call) => self.constant_call(call, depth),
            _ => None,
        };
        result.filter(|text| text.len() <= 64 * 1024)
    }

    /// A string built by concatenation or a template literal from literal text and
    /// values the flow cannot fold, with each value as a `${name}` hole: what a
    /// command line looks like when its paths and addresses are parameters
    /// (`"curl -o " + dest + " " + url`). Only when the literal text has a word
    /// break: a command, not a path or a key.
    fn template(&self, expression: &Expression<'_>) -> Option<String> {
        let mut text = String::new();
        match expression.without_parentheses() {
            Expression::TemplateLiteral(template) => {
                for (index, quasi) in template.quasis.iter().enumerate() {
                    text.push_str(quasi_text(quasi));
                    if let Some(expression) = template.expressions.get(index) {
                        self.template_part(expression, &mut text);
                    }
                }
            }
            Expression::BinaryExpression(binary) if binary.operator == BinaryOperator::Addition => {
                for part in addition_parts(binary, 64) {
                    self.template_part(part, &mut text);
                }
            }
            _ => return None,
        }
        (text.len() <= 4096 && text.contains(' ') && text.contains("${")).then_some(text)
    }

    /// One part of a [`template`](Self::template): its constant, the template a
    /// variable holds, or a hole named after the value.
    fn template_part(&self, part: &Expression<'_>, text: &mut String) {
        if let Some(constant) = self.constant(part, 0) {
            text.push_str(&constant);
            return;
        }
        let part = part.without_parentheses();
        if let Expression::Identifier(identifier) = part
            && let Some(held) = self
                .reference_symbol(identifier)
                .and_then(|symbol| self.templates.get(&symbol))
        {
            text.push_str(held);
            return;
        }
        let name: String = airlock_policy::one_line(&self.snippet(part.span()), 40)
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '`'))
            .collect();
        text.push_str("${");
        text.push_str(&name);
        text.push('}');
    }

    fn constant_call(&self, call: &CallExpression<'_>, depth: u32) -> Option<String> {
        let argument = |index: usize| -> Option<String> {
            self.constant(call.arguments.get(index)?.as_expression()?, depth + 1)
        };
        let callee = call.callee.without_parentheses();
        if let Some(member) = callee.as_member_expression() {
            let method = member.static_property_name()?;
            let object = member.object().without_parentheses();
            match method {
                // `s.split('').reverse().join('')`
                "join" => {
                    let separator = if call.arguments.is_empty() {
                        ",".to_owned()
                    } else {
                        argument(0)?
                    };
                    if let Expression::ArrayExpression(array) = object {
                        let parts: Option<Vec<String>> = array
                            .elements
                            .iter()
                            .map(|element| self.constant(element.as_expression()?, depth + 1))
                            .collect();
                        return Some(parts?.join(&separator));
                    }
                    let reversed = reversed_split(object)?;
                    let text = self.constant(reversed, depth + 1)?;
                    return separator.is_empty().then(|| text.chars().rev().collect());
                }
                "toString" => {
                    let encoding = if call.arguments.is_empty() {
                        None
                    } else {
                        Some(argument(0)?)
                    };
                    let Expression::CallExpression(inner) = object else {
                        return self.constant(object, depth + 1);
                    };
                    let decoded = self.constant_buffer(inner, depth)?;
                    return match encoding.as_deref() {
                        None | Some("utf8" | "utf-8" | "binary" | "latin1" | "ascii") => {
                            Some(String::from_utf8_lossy(&decoded).into_owned())
                        }
                        _ => None,
                    };
                }
                "fromCharCode" if self.qualified(member.object()).as_deref() == Some("String") => {
                    let mut text = String::new();
                    for argument in &call.arguments {
                        let Some(Expression::NumericLiteral(number)) = argument
                            .as_expression()
                            .map(Expression::without_parentheses)
                        else {
                            return None;
                        };
                        #[expect(
                            clippy::cast_possible_truncation,
                            clippy::cast_sign_loss,
                            reason = "char codes are small"
                        )]
                        text.push(char::from_u32(number.value as u32)?);
                    }
                    return Some(text);
                }
                // `Buffer.from([101, 99, 104, 111])` used as a string (`+`, `exec`):
                // its bytes as UTF-8.
                "from"
                    if self.qualified(member.object()).as_deref() == Some("Buffer")
                        && matches!(
                            call.arguments
                                .first()
                                .and_then(Argument::as_expression)
                                .map(Expression::without_parentheses),
                            Some(Expression::ArrayExpression(_))
                        ) =>
                {
                    let bytes = self.constant_buffer(call, depth)?;
                    return Some(String::from_utf8_lossy(&bytes).into_owned());
                }
                "concat" => {
                    let mut text = self.constant(object, depth + 1)?;
                    for index in 0..call.arguments.len() {
                        text.push_str(&argument(index)?);
                    }
                    return Some(text);
                }
                _ => return None,
            }
        }
        match self.qualified(callee).as_deref() {
            Some("atob") => {
                let decoded = strings::decode_base64(&argument(0)?)?;
                Some(String::from_utf8_lossy(&decoded).into_owned())
            }
            _ => None,
        }
    }

    /// Whether a constant call decodes (reverses a string, decodes base64 or hex,
    /// builds text from character codes) rather than joins.
    fn decodes(&self, call: &CallExpression<'_>) -> bool {
        let callee = call.callee.without_parentheses();
        if let Some(member) = callee.as_member_expression() {
            return match member.static_property_name() {
                Some("join") => reversed_split(member.object()).is_some(),
                Some("toString") => {
                    matches!(member.object().without_parentheses(), Expression::CallExpression(inner) if self.qualified(&inner.callee).as_deref() == Some("Buffer.from") && inner.arguments.len() == 2)
                }
                Some("fromCharCode") => true,
                Some("from") => matches!(
                    call.arguments
                        .first()
                        .and_then(Argument::as_expression)
                        .map(Expression::without_parentheses),
                    Some(Expression::ArrayExpression(_))
                ),
                _ => false,
            };
        }
        self.qualified(callee).as_deref() == Some("atob")
    }

    /// A path call with a part after the first (`join(home, '.cache')`,
    /// `join(dir, name)`): the result names a place below the first argument.
    /// Only parts that are constantly nothing (`'.'`, `'/'`) leave it where it was.
    fn names_a_part(&self, call: &CallExpression<'_>) -> bool {
        call.arguments.iter().skip(1).any(|argument| {
            argument.as_expression().is_none_or(|part| {
                self.constant(part, 0)
                    .is_none_or(|part| !matches!(part.trim_matches('/'), "" | "." | "~"))
            })
        })
    }

    /// A `Buffer` argument naming an encoding of text as text (`'base64'`, `'hex'`):
    /// what is read with it is decoded.
    fn text_encoding(&self, argument: Option<&Argument<'_>>) -> bool {
        argument
            .and_then(Argument::as_expression)
            .and_then(|encoding| self.constant(encoding, 0))
            .is_some_and(|encoding| matches!(encoding.as_str(), "base64" | "hex" | "base64url"))
    }

    /// `Buffer.from(<constant>, 'base64' | 'hex')`: the bytes.
    fn constant_buffer(&self, call: &CallExpression<'_>, depth: u32) -> Option<Vec<u8>> {
        if self.qualified(&call.callee).as_deref() != Some("Buffer.from") {
            return None;
        }
        // `Buffer.from([0x68, 0x69])`: the bytes themselves.
        if let Some(Expression::ArrayExpression(array)) = call
            .arguments
            .first()
            .and_then(Argument::as_expression)
            .map(Expression::without_parentheses)
        {
            return array
                .elements
                .iter()
                .map(
                    |element| match element.as_expression()?.without_parentheses() {
                        Expression::NumericLiteral(number)
                            if (0.0..=255.0).contains(&number.value)
                                && number.value.fract() == 0.0 =>
                        {
                            #[expect(
                                clippy::cast_possible_truncation,
                                clippy::cast_sign_loss,
                                reason = "checked to be a byte"
                            )]
                            Some(number.value as u8)
                        }
                        _ => None,
                    },
                )
                .collect();
        }
        let text = self.constant(call.arguments.first()?.as_expression()?, depth + 1)?;
        let encoding = match call.arguments.get(1) {
            Some(argument) => self.constant(argument.as_expression()?, depth + 1)?,
            None => "utf8".to_owned(),
        };
        match encoding.as_str() {
            "base64" | "base64url" => strings::decode_base64(&text),
            "hex" => strings::decode_hex(&text),
            "utf8" | "utf-8" => Some(text.into_bytes()),
            _ => None,
        }
    }

    // ---- Values ------------------------------------------------------------

    /// The value an expression may evaluate to. Pure as far as the syntax tree goes:
    /// nodes for call results are made once per call site.
    pub(crate) fn value_of(&mut self, expression: &Expression<'_>) -> Value {
        if self.depth >= MAX_DEPTH {
            return Value::default();
        }
        self.depth += 1;
        let value = self.value_inner(expression);
        self.depth -= 1;
        value
    }

    fn value_inner(&mut self, expression: &Expression<'_>) -> Value {
        match expression {
            Expression::StringLiteral(literal) => {
                self.literal_value(literal.span, literal.value.as_str())
            }
            Expression::TemplateLiteral(template) => {
                let text: String = template
                    .quasis
                    .iter()
                    .map(|quasi| quasi.value.raw.as_str())
                    .collect::<Vec<_>>()
                    .join("${}");
                let mut value = self.literal_value(template.span, &text);
                for expression in &template.expressions {
                    let part = self.value_of(expression);
                    value.add(part);
                }
                value
            }
            Expression::Identifier(identifier) => self.identifier_value(identifier),
            Expression::StaticMemberExpression(_)
            | Expression::ComputedMemberExpression(_)
            | Expression::PrivateFieldExpression(_) => {
                let member = expression
                    .as_member_expression()
                    .expect("a member expression");
                self.member_value(member)
            }
            Expression::CallExpression(call) => self.call_value(call),
            Expression::NewExpression(new) => self.new_value(new),
            Expression::ObjectExpression(object) => {
                let mut value = Value::default();
                for property in &object.properties {
                    let part = match property {
                        ObjectPropertyKind::ObjectProperty(property) => {
                            let mut part = self.value_of(&property.value);
                            if let PropertyKey::StaticIdentifier(key) = &property.key
                                && key_material(key.name.as_str(), self.wallet_file)
                                && !matches!(
                                    property.value,
                                    Expression::FunctionExpression(_)
                                        | Expression::ArrowFunctionExpression(_)
                                )
                            {
                                let origin = self.origin(
                                    Kind::WalletData.bit(),
                                    property.span,
                                    key.name.as_str().to_owned(),
                                    None,
                                );
                                part.add(Value::origin(origin));
                            }
                            // `{ hostname: 'dc.x.lc' }`: the option names a host,
                            // whatever its top-level domain.
                            if let PropertyKey::StaticIdentifier(key) = &property.key
                                && matches!(key.name.as_str(), "host" | "hostname")
                                && let Expression::StringLiteral(literal) = &property.value
                                && part.origins.is_empty()
                                && literals::is_domain_name(literal.value.as_str())
                            {
                                let host = literal.value.as_str().to_ascii_lowercase();
                                let class = literals::classify_host(&host, &host);
                                let origin = self.origin(
                                    class.kind().bit(),
                                    literal.span,
                                    format!("\"{host}\""),
                                    Some((host, class)),
                                );
                                part.add(Value::origin(origin));
                            }
                            part
                        }
                        ObjectPropertyKind::SpreadProperty(spread) => {
                            self.value_of(&spread.argument)
                        }
                    };
                    value.add(part);
                }
                value
            }
            Expression::ArrayExpression(array) => {
                let mut value = Value::default();
                for element in &array.elements {
                    let part = match element {
                        ArrayExpressionElement::SpreadElement(spread) => {
                            self.value_of(&spread.argument)
                        }
                        ArrayExpressionElement::Elision(_) => continue,
                        element => match element.as_expression() {
                            Some(expression) => self.value_of(expression),
                            None => continue,
                        },
                    };
                    value.add(part);
                }
                value
            }
            Expression::BinaryExpression(binary) => {
                // `abc[4] + abc[0] + …`: a string spelled out of an alphabet, the
                // way obfuscators hide literals. Folded, it is a literal decoded
                // at runtime.
                if binary.operator == BinaryOperator::Addition
                    && is_character_pick(&binary.right)
                    && character_picks(binary) >= 4
                    && let Some(text) = self.constant(expression, 0)
                {
                    let mut value = self.literal_value(binary.span, &text);
                    let shown = format!("\"{}\"", airlock_policy::one_line(&text, 80));
                    value.add(self.cached_origin(binary.right.span(), Kind::Decoded.bit(), &shown));
                    return value;
                }
                if binary.operator == BinaryOperator::Addition {
                    let mut value = self.value_of(&binary.left);
                    let right = self.value_of(&binary.right);
                    value.add(right);
                    value
                } else {
                    Value::default()
                }
            }
            Expression::LogicalExpression(logical) => {
                let mut value = if logical.operator == LogicalOperator::And {
                    Value::default()
                } else {
                    self.value_of(&logical.left)
                };
                let right = self.value_of(&logical.right);
                value.add(right);
                value
            }
            Expression::ConditionalExpression(conditional) => {
                let mut value = self.value_of(&conditional.consequent);
                let alternate = self.value_of(&conditional.alternate);
                value.add(alternate);
                value
            }
            Expression::SequenceExpression(sequence) => sequence
                .expressions
                .last()
                .map(|last| self.value_of(last))
                .unwrap_or_default(),
            Expression::AssignmentExpression(assignment) => self.value_of(&assignment.right),
            Expression::AwaitExpression(inner) => self.value_of(&inner.argument),
            Expression::ParenthesizedExpression(inner) => self.value_of(&inner.expression),
            Expression::TSAsExpression(inner) => self.value_of(&inner.expression),
            Expression::TSSatisfiesExpression(inner) => self.value_of(&inner.expression),
            Expression::TSNonNullExpression(inner) => self.value_of(&inner.expression),
            Expression::TSTypeAssertion(inner) => self.value_of(&inner.expression),
            Expression::YieldExpression(inner) => inner
                .argument
                .as_ref()
                .map(|argument| self.value_of(argument))
                .unwrap_or_default(),
            Expression::UnaryExpression(unary) => {
                if matches!(
                    unary.operator,
                    UnaryOperator::Typeof
                        | UnaryOperator::LogicalNot
                        | UnaryOperator::Void
                        | UnaryOperator::Delete
                ) {
                    Value::default()
                } else {
                    self.value_of(&unary.argument)
                }
            }
            Expression::ChainExpression(chain) => match &chain.expression {
                ChainElement::CallExpression(call) => self.call_value(call),
                ChainElement::TSNonNullExpression(inner) => self.value_of(&inner.expression),
                element => match element.as_member_expression() {
                    Some(member) => self.member_value(member),
                    None => Value::default(),
                },
            },
            Expression::TaggedTemplateExpression(tagged) => {
                let mut value = Value::default();
                for expression in &tagged.quasi.expressions {
                    let part = self.value_of(expression);
                    value.add(part);
                }
                value
            }
            Expression::FunctionExpression(function) => {
                let name = function
                    .id
                    .as_ref()
                    .map_or("", |id| id.name.as_str())
                    .to_owned();
                let index = self.function_index(function.span.start, &name);
                Value::read(self.flow.functions[index as usize].ret)
            }
            Expression::ArrowFunctionExpression(arrow) => {
                let index = self.function_index(arrow.span.start, "");
                Value::read(self.flow.functions[index as usize].ret)
            }
            Expression::ImportExpression(import) => match self.constant(&import.source, 0) {
                Some(specifier) if specifier.starts_with('.') => {
                    self.import_value(import.span, specifier, None, false)
                }
                _ => Value::default(),
            },
            _ => Value::default(),
        }
    }

    fn literal_value(&mut self, span: Span, text: &str) -> Value {
        if let Some(origin) = self.literal_origins.get(&span.start) {
            return origin.map(Value::origin).unwrap_or_default();
        }
        let origin = if (strings::is_encoded_blob(text) && !strings::is_wasm_base64(text))
            || html_entities(text) >= 8
        {
            let shown = format!("\"{}\"", airlock_policy::one_line(text, 40));
            Some(self.origin(Kind::Decoded.bit(), span, shown, None))
        } else if text.len() < 4 || text.len() > 8192 {
            None
        } else {
            let found = strings::markers(text);
            let (kinds, host) = literals::literal_kinds(text, &found);
            (!kinds.is_empty()).then(|| {
                let shown = format!("\"{}\"", airlock_policy::one_line(text, 80));
                self.origin(kinds, span, shown, host)
            })
        };
        self.literal_origins.insert(span.start, origin);
        origin.map(Value::origin).unwrap_or_default()
    }

    fn identifier_value(&mut self, identifier: &IdentifierReference<'_>) -> Value {
        match self.reference_symbol(identifier) {
            Some(symbol) => {
                if self
                    .modules
                    .get(&symbol)
                    .is_some_and(|module| module.qualified() != "process.env")
                {
                    return Value::default();
                }
                let node = if self.field_objects.contains(&symbol) {
                    self.whole_object(symbol)
                } else {
                    self.symbol_node(symbol)
                };
                let mut value = Value::read(node);
                let name = identifier.name.as_str();
                if key_material(name, self.wallet_file) {
                    value.add(self.cached_origin(identifier.span, Kind::WalletData.bit(), name));
                }
                value
            }
            None => match identifier.name.as_str() {
                "__dirname" | "__filename" => self.cached_origin(
                    identifier.span,
                    Kind::Location.bit(),
                    identifier.name.as_str(),
                ),
                "exports" => Value::read(self.exports_node()),
                // A global the file assigns (sloppy code's undeclared variables).
                name => self
                    .globals
                    .get(name)
                    .map(|node| Value::read(*node))
                    .unwrap_or_default(),
            },
        }
    }

    /// The node of an undeclared variable the file assigns.
    fn global_node(&mut self, name: &str) -> Node {
        if let Some(node) = self.globals.get(name) {
            return *node;
        }
        let node = self.flow.node(name, NodeKind::Variable);
        self.globals.insert(name.to_owned(), node);
        node
    }

    fn cached_origin(&mut self, span: Span, kinds: Mask, text: &str) -> Value {
        if let Some(origin) = self.literal_origins.get(&span.start) {
            return origin.map(Value::origin).unwrap_or_default();
        }
        let origin = self.origin(kinds, span, text.to_owned(), None);
        self.literal_origins.insert(span.start, Some(origin));
        Value::origin(origin)
    }

    fn member_value(&mut self, member: &MemberExpression<'_>) -> Value {
        let span = member.span();
        if let MemberExpression::ComputedMemberExpression(computed) = member
            && let Expression::Identifier(array) = computed.object.without_parentheses()
            && let Expression::NumericLiteral(index) = computed.expression.without_parentheses()
            && let Some(text) = self.tables.element(array.name.as_str(), index.value)
        {
            return self.literal_value(span, &text);
        }
        if let Some(qualified) = self.qualified_member(member) {
            if qualified == "process.env" {
                return self.cached_origin(span, Kind::EnvAll.bit(), "process.env");
            }
            if let Some(name) = qualified.strip_prefix("process.env.") {
                let kinds = env_kinds(name);
                if kinds.is_empty() {
                    return Value::default();
                }
                return self.cached_origin(span, kinds, &format!("process.env.{name}"));
            }
            if matches!(
                qualified.as_str(),
                "process.platform" | "process.arch" | "process.version"
            ) {
                return self.cached_origin(span, Kind::System.bit(), &qualified);
            }
        }
        // `process.env[name]`: any variable, chosen at runtime.
        if let MemberExpression::ComputedMemberExpression(computed) = member
            && self.qualified(&computed.object).as_deref() == Some("process.env")
        {
            // One variable chosen at runtime: the whole environment only where the
            // file walks through it (`Object.keys(process.env)`, `for … in`).
            if !self.enumerates_env
                || self.names_a_parameter(&computed.expression)
                || self.constant(&computed.expression, 0).is_some()
            {
                return Value::default();
            }
            return self.cached_origin(span, Kind::EnvAll.bit(), "process.env[…]");
        }
        if member.object().is_specific_id("module")
            && member.static_property_name() == Some("exports")
        {
            return Value::read(self.exports_node());
        }
        let mut value = match self.field_of(member) {
            // What the variable holds, and this member: not the other members.
            Some((symbol, name)) => {
                let mut value = Value::read(self.symbol_node(symbol));
                value.add(Value::read(self.field(symbol, &name)));
                value
            }
            None => self.value_of(member.object()),
        };
        if let Some(name) = member.static_property_name() {
            if key_material(name, self.wallet_file) {
                let text = self.snippet(span);
                value.add(self.cached_origin(span, Kind::WalletData.bit(), &text));
            }
            // `req.headers`, `request.body`: what a client sent a server.
            if matches!(
                name,
                "headers" | "body" | "query" | "cookies" | "params" | "rawBody"
            ) && self.is_request(member.object())
            {
                let text = self.snippet(span);
                value.add(self.cached_origin(span, Kind::RequestData.bit(), &text));
            }
            // `form.elements[i].value`: what the user typed into a form; `event.key`
            // in a file that listens to the keyboard: what the user is typing.
            if name == "value" && is_form_element(member.object())
                || self.key_events && is_key_of_event(name, member.object())
            {
                let text = self.snippet(span);
                value.add(self.cached_origin(span, Kind::FormInput.bit(), &text));
            }
        }
        value
    }

    fn qualified_member(&self, member: &MemberExpression<'_>) -> Option<String> {
        let object = self.qualified(member.object())?;
        let property = match member {
            MemberExpression::StaticMemberExpression(member) => {
                member.property.name.as_str().to_owned()
            }
            MemberExpression::ComputedMemberExpression(member) => {
                self.constant(&member.expression, 0)?
            }
            MemberExpression::PrivateFieldExpression(_) => return None,
        };
        Some(format!("{object}.{property}"))
    }

    fn import_value(
        &mut self,
        span: Span,
        specifier: String,
        member: Option<String>,
        call: bool,
    ) -> Value {
        if let Some(node) = self.call_results.get(&span.start) {
            return Value::read(*node);
        }
        let name = match &member {
            Some(member) => format!("require('{specifier}').{member}"),
            None => format!("require('{specifier}')"),
        };
        let node = self.flow.node(name, NodeKind::Import);
        self.flow.imports.push(ImportLink {
            node,
            specifier,
            member,
            call,
        });
        self.call_results.insert(span.start, node);
        Value::read(node)
    }

    fn arguments_value(&mut self, arguments: &[Argument<'_>]) -> Value {
        let mut value = Value::default();
        for argument in arguments {
            let part = match argument {
                Argument::SpreadElement(spread) => self.value_of(&spread.argument),
                argument => match argument.as_expression() {
                    Some(expression) => self.value_of(expression),
                    None => continue,
                },
            };
            value.add(part);
        }
        value
    }

    fn transfer_node(
        &mut self,
        span: Span,
        transfer: Transfer,
        name: String,
        input: &Value,
    ) -> Node {
        if let Some(node) = self.call_results.get(&span.start) {
            return *node;
        }
        let node = self.flow.node(name, NodeKind::Transfer(transfer));
        self.flow.flow_into(node, input);
        self.call_results.insert(span.start, node);
        node
    }

    fn call_value(&mut self, call: &CallExpression<'_>) -> Value {
        if let Some(text) = self.table_literal_call(call) {
            return self.literal_value(call.span, &text);
        }
        // `require('./x')`, `require('../package.json')`.
        if let Some(module) = self.required_module(call) {
            if module.starts_with('.')
                && module.ends_with(".json")
                && !module.ends_with("package.json")
            {
                return self.cached_origin(
                    call.span,
                    Kind::FileContents.bit(),
                    &format!("require('{module}')"),
                );
            }
            if module.ends_with("package.json") {
                return self.cached_origin(
                    call.span,
                    Kind::PackageMeta.bit(),
                    &format!("require('{module}')"),
                );
            }
            if module.starts_with('.') {
                return self.import_value(call.span, module, None, false);
            }
            return Value::default();
        }
        let callee = call.callee.without_parentheses();
        // `(function (p, a, c, k, e, d) {…})('<kilobytes of packed code>', 62, …)`:
        // a function written on the spot and applied to a long literal unpacks it
        // (packers, self-decoding stages): what it returns was hidden in the literal.
        if matches!(
            callee,
            Expression::FunctionExpression(_) | Expression::ArrowFunctionExpression(_)
        ) && call.arguments.iter().any(|argument| {
            matches!(argument, Argument::StringLiteral(literal) if literal.value.len() >= 1024)
        }) {
            let mut value = self.arguments_value(&call.arguments);
            value.add(self.cached_origin(
                call.span,
                Kind::Decoded.bit(),
                "a literal unpacked by a function written on the spot",
            ));
            return value;
        }
        // `keyring.exportSeedPhrase(password)`: a wallet's secret handed over.
        if let Expression::StaticMemberExpression(member) = callee
            && apis::exports_wallet_secret(member.property.name.as_str())
        {
            // Keyed by the method's name: the call starts where its receiver does.
            let text = self.snippet(call.span);
            return self.cached_origin(member.property.span, Kind::WalletData.bit(), &text);
        }
        let (qualified, role) = self.role_of(callee);
        if qualified.as_deref().is_some_and(apis::builds_paths) && self.names_a_part(call) {
            let input = self.arguments_value(&call.arguments);
            let name = format!("{}()", qualified.unwrap_or_default());
            let node = self.transfer_node(call.span, Transfer::SubPath, name, &input);
            return Value::read(node);
        }
        match role {
            Some(Role::Source(kinds)) => {
                let text = format!("{}()", qualified.unwrap_or_default());
                return self.cached_origin(call.span, kinds, &text);
            }
            Some(Role::ReadFile) => {
                let input = call
                    .arguments
                    .first()
                    .and_then(Argument::as_expression)
                    .map(|path| self.value_of(path))
                    .unwrap_or_default();
                let name = format!(
                    "{}({})",
                    qualified.unwrap_or_default(),
                    airlock_policy::one_line(
                        &self.snippet(call.arguments.first().map_or(call.span, GetSpan::span)),
                        60
                    )
                );
                return Value::read(self.transfer_node(
                    call.span,
                    Transfer::ReadFile,
                    name,
                    &input,
                ));
            }
            Some(Role::Sink(SinkKind::Exec)) => {
                let input = self.arguments_value(&call.arguments);
                let name = format!("the output of {}", qualified.unwrap_or_default());
                return Value::read(self.transfer_node(
                    call.span,
                    Transfer::CommandOutput,
                    name,
                    &input,
                ));
            }
            Some(Role::Sink(SinkKind::Http) | Role::Handle(SinkKind::Http | SinkKind::Socket)) => {
                return self.cached_origin(
                    call.span,
                    Kind::NetworkResponse.bit(),
                    &format!("the response of {}", qualified.unwrap_or_default()),
                );
            }
            Some(Role::Sink(_) | Role::Handle(_) | Role::Opaque) => return Value::default(),
            Some(Role::Decode) => {
                let mut value = self.arguments_value(&call.arguments);
                // Decoding counts when what is decoded is written in the code (a
                // literal, a constant, character codes, an XOR): decoding data that
                // arrives at runtime is what every protocol does.
                let first = call.arguments.first().and_then(Argument::as_expression);
                // A WebAssembly module is compiled, not run as text.
                let literal_input = first.is_some_and(|input| {
                    self.constant(input, 0)
                        .is_some_and(|text| !strings::is_wasm_base64(&text))
                        || xor_inside(input)
                });
                // `Buffer.from([101, 99, 104, 111, …])`: text spelled as bytes.
                let spelled = matches!(qualified.as_deref(), Some("Buffer.from"))
                    && matches!(first.map(Expression::without_parentheses), Some(Expression::ArrayExpression(array)) if array.elements.len() >= 8)
                    && self.constant_call(call, 0).is_some_and(|text| {
                        text.chars()
                            .all(|c| !c.is_control() || c.is_ascii_whitespace())
                    });
                if spelled && let Some(text) = self.constant_call(call, 0) {
                    value.add(
                        self.literal_value(Span::new(call.span.start + 1, call.span.end), &text),
                    );
                }
                let decoding = match qualified.as_deref() {
                    Some("Buffer.from") if spelled => true,
                    Some("Buffer.from" | "Buffer") => {
                        literal_input && self.text_encoding(call.arguments.get(1))
                    }
                    // Character codes that spell words (not a Unicode range or a
                    // separator), or an XOR over them.
                    Some("String.fromCharCode") => {
                        self.constant_call(call, 0)
                            .is_some_and(|text| readable_word(&text))
                            || call
                                .arguments
                                .iter()
                                .any(|argument| argument.as_expression().is_some_and(xor_inside))
                    }
                    Some("crypto.createDecipher" | "crypto.createDecipheriv") => false,
                    _ => literal_input,
                };
                if decoding {
                    value.add(self.cached_origin(
                        call.span,
                        Kind::Decoded.bit(),
                        &format!("{}(…)", qualified.unwrap_or_default()),
                    ));
                }
                return value;
            }
            None => {}
        }
        // A constant the obfuscator rebuilt at runtime: what it says counts.
        if let Some(text) = self.constant_call(call, 0) {
            let mut value = self.literal_value(call.span, &text);
            // Joining or concatenating literals is ordinary; reversing or decoding
            // them is what obfuscators do.
            if self.decodes(call) {
                value.add(self.cached_origin(
                    Span::new(call.span.start + 1, call.span.end),
                    Kind::Decoded.bit(),
                    &format!("\"{}\"", airlock_policy::one_line(&text, 60)),
                ));
            }
            return value;
        }
        match callee {
            Expression::Identifier(identifier) => {
                if let Some(symbol) = self.reference_symbol(identifier) {
                    if let Some(module) = self.modules.get(&symbol).cloned() {
                        if module.local() {
                            return self.import_value(
                                call.span,
                                module.module.clone(),
                                (!module.path.is_empty()).then(|| module.path.clone()),
                                true,
                            );
                        }
                        return self.arguments_value(&call.arguments).lossy();
                    }
                    if let Some(node) = self.call_results.get(&call.span.start) {
                        return Value::read(*node);
                    }
                    let result = self
                        .flow
                        .node(format!("{}()", identifier.name.as_str()), NodeKind::Return);
                    self.call_results.insert(call.span.start, result);
                    return Value::read(result);
                }
                // Encodings keep what they encode (`encodeURIComponent(key)` is the
                // key); another global function may be one-way (a hash of a key).
                if matches!(
                    identifier.name.as_str(),
                    "encodeURIComponent" | "encodeURI" | "escape" | "btoa" | "String"
                ) {
                    return self.arguments_value(&call.arguments);
                }
                self.arguments_value(&call.arguments).lossy()
            }
            Expression::FunctionExpression(_) | Expression::ArrowFunctionExpression(_) => {
                if let Some(node) = self.call_results.get(&call.span.start) {
                    return Value::read(*node);
                }
                let result = self.flow.node("the result of a function", NodeKind::Return);
                self.call_results.insert(call.span.start, result);
                Value::read(result)
            }
            callee => {
                if let Some(member) = callee.as_member_expression() {
                    if let Some(module) = self.loaded_module(callee)
                        && module.local()
                    {
                        return self.import_value(
                            call.span,
                            module.module.clone(),
                            (!module.path.is_empty()).then(|| module.path.clone()),
                            true,
                        );
                    }
                    let method = member.static_property_name().unwrap_or("");
                    if apis::opaque_method(method) {
                        return Value::default();
                    }
                    let mut value = self.value_of(member.object());
                    if self.loaded_module(member.object()).is_some() {
                        // A module's function the table does not know: its result
                        // is made from its arguments (`path.join`, `util.format`).
                        value = Value::default();
                    }
                    let arguments = self.arguments_value(&call.arguments);
                    // Encoders keep what they encode; other calls may not.
                    value.add(if encoder(method) {
                        arguments
                    } else {
                        arguments.lossy()
                    });
                    if let Some(result) = self.method_results.get(&call.span.start) {
                        value.add(Value::read(*result));
                    }
                    return value;
                }
                let mut value = self.value_of(callee);
                value.add(self.arguments_value(&call.arguments).lossy());
                value
            }
        }
    }

    fn new_value(&mut self, new: &NewExpression<'_>) -> Value {
        let (qualified, role) = self.role_of(&new.callee);
        match role {
            Some(Role::Handle(SinkKind::Http | SinkKind::Socket)) => self.cached_origin(
                new.span,
                Kind::NetworkResponse.bit(),
                &format!("the response of {}", qualified.unwrap_or_default()),
            ),
            Some(Role::Sink(_) | Role::Handle(_) | Role::Opaque) => Value::default(),
            Some(Role::Source(kinds)) => {
                self.cached_origin(new.span, kinds, &qualified.unwrap_or_default())
            }
            Some(Role::Decode) => {
                let mut value = self.arguments_value(&new.arguments);
                let literal_input = new
                    .arguments
                    .first()
                    .and_then(Argument::as_expression)
                    .is_some_and(|input| {
                        self.constant(input, 0)
                            .is_some_and(|text| !strings::is_wasm_base64(&text))
                    });
                // `new Buffer(256)` allocates; `new Buffer(text, 'base64')` decodes.
                let decodes = match qualified.as_deref() {
                    Some("Buffer" | "Buffer.from") => self.text_encoding(new.arguments.get(1)),
                    _ => true,
                };
                if literal_input && decodes {
                    value.add(self.cached_origin(
                        new.span,
                        Kind::Decoded.bit(),
                        &qualified.unwrap_or_default(),
                    ));
                }
                value
            }
            _ => self.arguments_value(&new.arguments).lossy(),
        }
    }

    // ---- Effects -----------------------------------------------------------

    /// Binds the names in a pattern to a value.
    fn bind_pattern(&mut self, pattern: &BindingPattern<'_>, value: &Value) {
        for identifier in pattern.get_binding_identifiers() {
            if let Some(symbol) = identifier.symbol_id.get() {
                let node = self.symbol_node(symbol);
                self.flow.flow_into(node, value);
            }
        }
    }

    fn sink(
        &mut self,
        span: Span,
        kind: SinkKind,
        api: String,
        arguments: &[Argument<'_>],
    ) -> usize {
        // A process gets its command and arguments; its options (`env`, `cwd`) are
        // how every tool passes the environment on, not data sent anywhere.
        let given = if kind == SinkKind::Exec {
            &arguments[..arguments.len().min(2)]
        } else {
            arguments
        };
        // A callback is what the sink calls back with, not what it is given.
        let mut value = Value::default();
        for argument in given {
            if inline_function_start(argument.as_expression()).is_none() {
                let part = match argument {
                    Argument::SpreadElement(spread) => self.value_of(&spread.argument),
                    argument => argument
                        .as_expression()
                        .map(|expression| self.value_of(expression))
                        .unwrap_or_default(),
                };
                value.add(part);
            }
        }
        // Where a file operation acts: its first argument, on a node of its own.
        // (For a process, its command: the program, or the shell's command line.)
        let target = matches!(
            kind,
            SinkKind::FileWrite | SinkKind::FileDelete | SinkKind::Chmod | SinkKind::Exec
        )
        .then(|| arguments.first().and_then(Argument::as_expression))
        .flatten()
        .map(|first| {
            let path = self.value_of(first);
            let node = self
                .flow
                .node(format!("the path of {api}"), NodeKind::Variable);
            self.flow.flow_into(node, &path);
            node
        });
        // For a file operation, the path's source text; for a process, the
        // program and its arguments' source text: what the one names, the other
        // may run.
        let target_text = if kind == SinkKind::Exec {
            arguments
                .iter()
                .take(2)
                .map(|argument| self.snippet(argument.span()))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            target
                .and(arguments.first())
                .map(|first| airlock_policy::one_line(&self.snippet(first.span()), 80))
                .unwrap_or_default()
        };
        let constant = arguments
            .first()
            .and_then(Argument::as_expression)
            .and_then(|first| self.constant(first, 0));
        let template = if kind == SinkKind::Exec && constant.is_none() {
            arguments
                .first()
                .and_then(Argument::as_expression)
                .and_then(|first| match first.without_parentheses() {
                    Expression::Identifier(identifier) => self
                        .reference_symbol(identifier)
                        .and_then(|symbol| self.templates.get(&symbol))
                        .cloned(),
                    other => self.template(other),
                })
        } else {
            None
        };
        let content = (kind == SinkKind::FileWrite)
            .then(|| {
                arguments
                    .get(1)
                    .and_then(Argument::as_expression)
                    .and_then(|second| self.constant(second, 0))
            })
            .flatten();
        let node = self.flow.node(api.clone(), NodeKind::Sink);
        self.flow.flow_into(node, &value);
        let site = SinkSite {
            node,
            kind,
            api,
            line: self.line(span),
            snippet: self.snippet(span),
            in_function: self.owner().is_some(),
            owner: self.owner(),
            constant,
            template,
            content,
            target,
            target_text,
            forwarded: Vec::new(),
        };
        self.flow.sinks.push(site);
        let index = self.flow.sinks.len() - 1;
        if kind == SinkKind::Exec
            && let Some(Expression::Identifier(first)) = arguments
                .first()
                .and_then(Argument::as_expression)
                .map(Expression::without_parentheses)
        {
            self.note_forwarding(first, index);
        }
        index
    }

    /// Whether `key` is a parameter of the function it is read in, when that
    /// function is a helper called by name (`getenv(name) { return process.env[name] }`)
    /// rather than a callback run where it is written (`keys.forEach((k) => …)`):
    /// the caller picks one value.
    fn names_a_parameter(&self, key: &Expression<'_>) -> bool {
        let Expression::Identifier(identifier) = key.without_parentheses() else {
            return false;
        };
        let Some(symbol) = self.reference_symbol(identifier) else {
            return false;
        };
        let Some(node) = self.symbols.get(&symbol) else {
            return false;
        };
        self.function_stack
            .last()
            .is_some_and(|(function, inline)| {
                !inline
                    && self.flow.functions[*function as usize]
                        .params
                        .contains(node)
            })
    }

    /// A process started with a parameter of an enclosing function: the function
    /// is a command runner, and the constants its callers pass are commands.
    fn note_forwarding(&mut self, command: &IdentifierReference<'_>, sink: usize) {
        let Some(symbol) = self.reference_symbol(command) else {
            return;
        };
        let node = self.symbol_node(symbol);
        for (function, _) in self.function_stack.iter().rev() {
            if let Some(position) = self.flow.functions[*function as usize]
                .params
                .iter()
                .position(|param| *param == node)
            {
                self.exec_params.push((*function, position, sink));
                return;
            }
        }
    }

    /// An address assigned to a page element: a sink for what the address carries.
    fn page_address(&mut self, span: Span, value: &Value) {
        let api = self.snippet(span);
        let node = self.flow.node(api.clone(), NodeKind::Sink);
        self.flow.flow_into(node, value);
        let site = SinkSite {
            node,
            kind: SinkKind::PageAddress,
            api,
            line: self.line(span),
            snippet: self.snippet(span),
            in_function: self.owner().is_some(),
            owner: self.owner(),
            constant: None,
            template: None,
            content: None,
            target: None,
            target_text: String::new(),
            forwarded: Vec::new(),
        };
        self.flow.sinks.push(site);
    }

    fn feed_handle(&mut self, sink: usize, arguments: &[Argument<'_>]) {
        let value = self.arguments_value(arguments);
        let node = self.flow.sinks[sink].node;
        self.flow.flow_into(node, &value);
        if self.flow.sinks[sink].constant.is_none()
            && let Some(first) = arguments.first().and_then(Argument::as_expression)
        {
            self.flow.sinks[sink].constant = self.constant(first, 0);
        }
    }

    /// The handle a call's receiver is, when it is one.
    fn handle_of(&self, object: &Expression<'_>) -> Option<usize> {
        match object.without_parentheses() {
            Expression::Identifier(identifier) => match self.reference_symbol(identifier) {
                Some(symbol) => self.handles.get(&symbol).copied(),
                None => self.global_handles.get(identifier.name.as_str()).copied(),
            },
            Expression::CallExpression(call) => self
                .handle_calls
                .get(&call.span.start)
                .copied()
                .or_else(|| {
                    // `https.request(...).on('error', f).end(data)`
                    let member = call.callee.as_member_expression()?;
                    self.handle_of(member.object())
                }),
            Expression::NewExpression(new) => self.handle_calls.get(&new.span.start).copied(),
            // `shell.stdin`, `request.socket`: a part of a handle writes to it.
            expression => expression
                .as_member_expression()
                .and_then(|member| self.handle_of(member.object())),
        }
    }

    /// An undeclared name of the engine's own objects (`JSON`, `Object`, `Math`…):
    /// their methods are never the package's.
    fn is_builtin_object(&self, object: &Expression<'_>) -> bool {
        matches!(object.without_parentheses(), Expression::Identifier(identifier)
            if self.reference_symbol(identifier).is_none()
                && apis::BUILTIN_OBJECTS.contains(&identifier.name.as_str()))
    }

    /// The root variable of `a.b.c`, `a[0]`, `this.x` aside.
    fn root_symbol(&self, expression: &Expression<'_>) -> Option<SymbolId> {
        match expression.without_parentheses() {
            Expression::Identifier(identifier) => self.reference_symbol(identifier),
            expression => self.root_symbol(expression.as_member_expression()?.object()),
        }
    }

    /// Binds what a declaration or assignment gives a symbol beyond its value: the
    /// module it names, the function it is, the handle it holds, its constant.
    fn note_binding(&mut self, symbol: SymbolId, init: &Expression<'_>) {
        let init = init.without_parentheses();
        if self.holds_require(init) {
            self.require_aliases.insert(symbol);
            return;
        }
        if let Some(module) = self.loaded_module(init) {
            self.modules.insert(symbol, module);
            return;
        }
        // `const env = process.env`: `env.npm_config_arch` reads one variable, as
        // `process.env.npm_config_arch` does; `env` itself stays the whole of it.
        if init.as_member_expression().is_some()
            && self.qualified(init).as_deref() == Some("process.env")
        {
            self.modules.insert(
                symbol,
                ModuleRef {
                    module: "process".to_owned(),
                    path: "env".to_owned(),
                },
            );
        }
        match init {
            Expression::FunctionExpression(function) => {
                let name = self.scoping.symbol_name(symbol).to_owned();
                let index = self.function_index(function.span.start, &name);
                self.function_of_symbol.insert(symbol, index);
            }
            Expression::ArrowFunctionExpression(arrow) => {
                let name = self.scoping.symbol_name(symbol).to_owned();
                let index = self.function_index(arrow.span.start, &name);
                self.function_of_symbol.insert(symbol, index);
            }
            Expression::Identifier(identifier) => {
                if let Some(other) = self.reference_symbol(identifier) {
                    if let Some(function) = self.function_of_symbol.get(&other).copied() {
                        self.function_of_symbol.insert(symbol, function);
                    }
                    if let Some(handle) = self.handles.get(&other).copied() {
                        self.handles.insert(symbol, handle);
                    }
                }
            }
            _ => {}
        }
        if let Some(handle) = self.handle_of(init) {
            self.handles.insert(symbol, handle);
        }
        if !self.scoping.symbol_is_mutated(symbol) {
            if let Some(text) = self.constant(init, 0) {
                self.constants.insert(symbol, text);
            } else if let Some(text) = self.template(init) {
                self.templates.insert(symbol, text);
            }
        }
    }

    fn enter_function(
        &mut self,
        start: u32,
        name: &str,
        params: &oxc_ast::ast::FormalParameters<'_>,
    ) {
        let index = self.function_index(start, name);
        if self.flow.functions[index as usize].params.is_empty() {
            let mut nodes = Vec::new();
            for item in &params.items {
                for identifier in item.pattern.get_binding_identifiers() {
                    if let Some(symbol) = identifier.symbol_id.get() {
                        nodes.push(self.symbol_node(symbol));
                    }
                }
            }
            if let Some(rest) = &params.rest {
                for identifier in rest.rest.argument.get_binding_identifiers() {
                    if let Some(symbol) = identifier.symbol_id.get() {
                        nodes.push(self.symbol_node(symbol));
                    }
                }
            }
            self.flow.functions[index as usize].params = nodes;
        }
        let inline = self.inline_functions.contains(&start);
        self.function_stack.push((index, inline));
    }

    /// What a call does besides giving a value: sinks, handles, bindings of
    /// arguments to parameters, callbacks, methods that fill their receiver.
    fn effects_of_call(&mut self, call: &CallExpression<'_>) {
        let callee = call.callee.without_parentheses();
        let (qualified, role) = self.role_of(callee);
        let api = qualified.clone().unwrap_or_default();
        let mut callback_value = None;
        match role {
            Some(Role::Sink(kind)) => {
                let sink = self.sink(call.span, kind, api.clone(), &call.arguments);
                if kind.is_network() {
                    self.handle_calls.insert(call.span.start, sink);
                    callback_value = Some(self.cached_origin(
                        call.span,
                        Kind::NetworkResponse.bit(),
                        &format!("the response of {api}"),
                    ));
                } else if kind == SinkKind::Exec {
                    // What is written to the process's stdin reaches it too.
                    self.handle_calls.insert(call.span.start, sink);
                    let input = self.arguments_value(&call.arguments);
                    let node = self.transfer_node(
                        call.span,
                        Transfer::CommandOutput,
                        format!("the output of {api}"),
                        &input,
                    );
                    callback_value = Some(Value::read(node));
                }
            }
            Some(Role::Handle(kind)) => {
                let sink = self.sink(call.span, kind, api.clone(), &call.arguments);
                self.handle_calls.insert(call.span.start, sink);
                // A mail transport logged in with a password written in the code:
                // the mailbox is the author's, and what it sends goes to them.
                if api == "nodemailer.createTransport"
                    && let Some(mailbox) = written_mailbox(&call.arguments)
                {
                    let origin = self.origin(
                        Kind::HostExfil.bit(),
                        call.span,
                        format!("{api}(…)"),
                        Some((
                            mailbox,
                            HostClass::Exfil("a mailbox whose password is in the code"),
                        )),
                    );
                    let node = self.flow.sinks[sink].node;
                    self.flow.seeds.push((node, origin));
                }
                if matches!(kind, SinkKind::Http | SinkKind::Socket) {
                    callback_value = Some(self.cached_origin(
                        call.span,
                        Kind::NetworkResponse.bit(),
                        &format!("the response of {api}"),
                    ));
                }
            }
            Some(Role::ReadFile) => {
                callback_value = Some(self.call_value(call));
            }
            _ => {}
        }
        // `req.on('data', chunk => …)`: the chunks are what a client sent.
        if role.is_none() && self.is_request_stream(callee, &call.arguments) {
            callback_value = Some(self.cached_origin(
                call.span,
                Kind::RequestData.bit(),
                "the body of a request",
            ));
        }
        if role.is_none() {
            self.effects_of_unknown_call(call, callee);
        }
        // `require(<computed>)`: code loaded by a name built at runtime.
        if self.is_require(callee)
            && call.arguments.len() == 1
            && self.required_module(call).is_none()
        {
            self.sink(
                call.span,
                SinkKind::Code,
                "require".to_owned(),
                &call.arguments,
            );
        }
        // Inline functions given as arguments run with what the call hands them:
        // the receiver's value for `.then`, `.on`, `.forEach`; the response of a
        // request; the contents of a file read.
        let receiver = match callback_value {
            Some(value) => value,
            None => match callee.as_member_expression() {
                Some(member) => self.value_of(member.object()),
                None => Value::default(),
            },
        };
        if receiver.is_empty() {
            return;
        }
        for argument in &call.arguments {
            if let Some(start) = inline_function_start(argument.as_expression()) {
                self.pending_callbacks.push((start, receiver.clone()));
            }
        }
    }

    fn effects_of_unknown_call(&mut self, call: &CallExpression<'_>, callee: &Expression<'_>) {
        // A handle's methods feed its sink.
        if let Some(member) = callee.as_member_expression() {
            // `resolver[_0xf9a0[23]](…)`: a method named by a constant.
            let computed_name = match member {
                MemberExpression::ComputedMemberExpression(computed) => {
                    self.constant(&computed.expression, 0)
                }
                _ => None,
            };
            let method = member
                .static_property_name()
                .or(computed_name.as_deref())
                .unwrap_or("");
            // `socket.pipe(shell.stdin)`: the stream's data goes where it is piped.
            if method == "pipe"
                && let Some(target) = call.arguments.first().and_then(Argument::as_expression)
            {
                let value = self.value_of(member.object());
                if let Some(sink) = self.handle_of(target) {
                    let node = self.flow.sinks[sink].node;
                    self.flow.flow_into(node, &value);
                } else if let Some(symbol) = self.root_symbol(target) {
                    let node = self.symbol_node(symbol);
                    self.flow.flow_into(node, &value);
                }
            }
            if apis::HANDLE_METHODS.contains(&method)
                && let Some(sink) = self.handle_of(member.object())
            {
                self.feed_handle(sink, &call.arguments);
                return;
            }
            // `data.push(x)`, `Object.assign(target, x)`.
            if apis::FILLING_METHODS.contains(&method) {
                let target = if self.qualified(member.object()).as_deref() == Some("Object") {
                    call.arguments
                        .first()
                        .and_then(Argument::as_expression)
                        .and_then(|first| self.root_symbol(first))
                } else {
                    self.root_symbol(member.object())
                };
                if let Some(symbol) = target
                    && !self.modules.contains_key(&symbol)
                {
                    let value = self.arguments_value(&call.arguments);
                    let node = self.symbol_node(symbol);
                    self.flow.flow_into(node, &value);
                }
            }
            // `Loader.addToQueue(key)`, `this.send(data)`: a method of this file.
            // (`JSON.stringify(x)` is the engine's, never a package's `stringify`;
            // nor are `f.call(…)`, `parts.join(…)`, `text.replace(…)`; one-letter
            // names, `$` and `t`, are too common in bundles to say which is meant.)
            if method.len() > 1
                && !apis::STANDARD_METHODS.contains(&method)
                && !self.is_builtin_object(member.object())
                && self
                    .root_symbol(member.object())
                    .is_none_or(|symbol| !self.modules.contains_key(&symbol))
            {
                let result = self.flow.node(format!("{method}()"), NodeKind::Return);
                self.method_results.insert(call.span.start, result);
                let arguments = self.argument_values(&call.arguments);
                self.flow
                    .method_calls
                    .push((method.to_owned(), result, arguments));
            }
            // `lib.send(data)` where `lib` is another file of the package.
            if let Some(module) = self.loaded_module(callee)
                && module.local()
            {
                let arguments = self.argument_values(&call.arguments);
                self.flow.import_calls.push(ImportCall {
                    specifier: module.module.clone(),
                    member: (!module.path.is_empty()).then(|| module.path.clone()),
                    arguments,
                });
            }
            return;
        }
        match callee {
            Expression::Identifier(identifier) => {
                let Some(symbol) = self.reference_symbol(identifier) else {
                    return;
                };
                let owner = self.owner();
                self.calls.push((owner, Callee::Symbol(symbol)));
                if let Some(module) = self.modules.get(&symbol).cloned() {
                    if module.local() {
                        let arguments = self.argument_values(&call.arguments);
                        self.flow.import_calls.push(ImportCall {
                            specifier: module.module,
                            member: (!module.path.is_empty()).then_some(module.path),
                            arguments,
                        });
                    }
                    return;
                }
                let result = match self.call_value(call).reads.first() {
                    Some(node) => *node,
                    None => return,
                };
                let arguments = self.argument_values(&call.arguments);
                self.pending_calls
                    .push((Callee::Symbol(symbol), result, arguments));
                let constants: Vec<Option<String>> = call
                    .arguments
                    .iter()
                    .take(4)
                    .map(|argument| self.constant(argument.as_expression()?, 0))
                    .collect();
                if constants.iter().any(Option::is_some) {
                    self.constant_calls
                        .push((Callee::Symbol(symbol), constants));
                }
            }
            Expression::FunctionExpression(function) => {
                let start = function.span.start;
                self.bind_immediate(call, start);
            }
            Expression::ArrowFunctionExpression(arrow) => {
                let start = arrow.span.start;
                self.bind_immediate(call, start);
            }
            _ => {}
        }
    }

    fn bind_immediate(&mut self, call: &CallExpression<'_>, start: u32) {
        let Some(result) = self.call_value(call).reads.first().copied() else {
            return;
        };
        let arguments = self.argument_values(&call.arguments);
        self.pending_calls
            .push((Callee::FunctionAt(start), result, arguments));
    }

    fn argument_values(&mut self, arguments: &[Argument<'_>]) -> Vec<Value> {
        arguments
            .iter()
            .map(|argument| match argument {
                Argument::SpreadElement(spread) => self.value_of(&spread.argument),
                argument => argument
                    .as_expression()
                    .map(|expression| self.value_of(expression))
                    .unwrap_or_default(),
            })
            .collect()
    }

    fn mark_inline(&mut self, callee: &Expression<'_>, arguments: &[Argument<'_>]) {
        if let Some(start) = inline_function_start(Some(callee)) {
            self.inline_functions.insert(start);
        }
        for argument in arguments {
            if let Some(start) = inline_function_start(argument.as_expression()) {
                self.inline_functions.insert(start);
            }
            // `setTimeout(main, 10)`, `process.on('exit', cleanup)`: a function
            // handed over by name runs as a callback written there would.
            if let Some(Expression::Identifier(identifier)) = argument.as_expression()
                && let Some(symbol) = self.reference_symbol(identifier)
            {
                let owner = self.owner();
                self.calls.push((owner, Callee::Symbol(symbol)));
            }
        }
    }

    fn assign_to_target(&mut self, target: &AssignmentTarget<'_>, right: &Expression<'_>) {
        let value = self.value_of(right);
        match target {
            AssignmentTarget::AssignmentTargetIdentifier(identifier) => {
                if let Some(symbol) = self.reference_symbol(identifier) {
                    let node = self.symbol_node(symbol);
                    self.flow.flow_into(node, &value);
                    self.note_binding(symbol, right);
                    // `var KEY; … KEY = "NAME"`, as bundlers hoist module constants:
                    // written once, it is the constant it was given.
                    if !self.constants.contains_key(&symbol)
                        && self
                            .scoping
                            .get_resolved_references(symbol)
                            .filter(|reference| reference.is_write())
                            .count()
                            == 1
                        && let Some(text) = self.constant(right, 0)
                    {
                        self.constants.insert(symbol, text);
                    }
                } else {
                    let name = identifier.name.as_str();
                    let node = self.global_node(name);
                    self.flow.flow_into(node, &value);
                    let text = self.constant(right, 0);
                    self.global_constants
                        .entry(name.to_owned())
                        .and_modify(|known| {
                            if *known != text {
                                *known = None;
                            }
                        })
                        .or_insert(text);
                    if let Some(module) = self.loaded_module(right) {
                        self.global_modules.insert(name.to_owned(), module);
                    }
                    if let Some(handle) = self.handle_of(right) {
                        self.global_handles.insert(name.to_owned(), handle);
                    }
                }
            }
            target => {
                let Some(member) = target.as_member_expression() else {
                    // Destructuring assignment: every name gets the value.
                    return;
                };
                let object = member.object().without_parentheses();
                let property = member.static_property_name();
                // `module.exports = …`, `module.exports.x = …`, `exports.x = …`.
                let whole_exports = matches!(object, Expression::Identifier(id) if id.name == "module" && self.reference_symbol(id).is_none())
                    && property == Some("exports");
                let member_of_exports = match object {
                    Expression::Identifier(id) => {
                        id.name == "exports" && self.reference_symbol(id).is_none()
                    }
                    object => object.is_specific_member_access("module", "exports"),
                };
                if whole_exports {
                    let node = self.exports_node();
                    self.flow.flow_into(node, &value);
                    // `module.exports = { send, collect: function () {…} }`.
                    if let Expression::ObjectExpression(object) = right.without_parentheses() {
                        for property in &object.properties {
                            let ObjectPropertyKind::ObjectProperty(property) = property else {
                                continue;
                            };
                            let Some(name) = property.key.static_name() else {
                                continue;
                            };
                            let part = self.value_of(&property.value);
                            let member = self.export_member(&name);
                            self.flow.flow_into(member, &part);
                            if let Some(index) = self.function_of(&property.value) {
                                self.flow.export_functions.push((name.to_string(), index));
                            }
                        }
                    }
                    if let Some(index) = self.function_of(right) {
                        self.flow.export_functions.push((String::new(), index));
                    }
                    return;
                }
                if member_of_exports && let Some(name) = property {
                    let node = self.export_member(name);
                    self.flow.flow_into(node, &value);
                    let exports = self.exports_node();
                    self.flow.flow_into(exports, &value);
                    if let Some(index) = self.function_of(right) {
                        self.flow.export_functions.push((name.to_owned(), index));
                    }
                    return;
                }
                // `img.src = url`, `form.action = url`: the page requests the address.
                if matches!(property, Some("src" | "href" | "action")) {
                    self.page_address(member.span(), &value);
                }
                // `X.prototype.name = function () {}`, `X.name = () => {}`: a method.
                if let (Some(name), Some(start)) = (property, inline_function_start(Some(right))) {
                    let index = self.function_index(start, name);
                    self.flow.methods.push((name.to_owned(), index));
                }
                // `module.exports.log[i] = v`, `exports.cache.x = v`: the exports hold v.
                if exports_root(object) {
                    let node = self.exports_node();
                    self.flow.flow_into(node, &value);
                }
                // `obj.x = v`: the member holds v (the object, for deeper paths).
                if let Some(member) = target.as_member_expression()
                    && let Some((symbol, name)) = self.field_of(member)
                {
                    let node = self.field(symbol, &name);
                    self.flow.flow_into(node, &value);
                } else if let Some(symbol) = self.root_symbol(object)
                    && !self.modules.contains_key(&symbol)
                {
                    let node = self.symbol_node(symbol);
                    self.flow.flow_into(node, &value);
                }
            }
        }
    }

    fn function_of(&mut self, expression: &Expression<'_>) -> Option<u32> {
        match expression.without_parentheses() {
            Expression::FunctionExpression(function) => {
                let name = function
                    .id
                    .as_ref()
                    .map_or("", |id| id.name.as_str())
                    .to_owned();
                Some(self.function_index(function.span.start, &name))
            }
            Expression::ArrowFunctionExpression(arrow) => {
                Some(self.function_index(arrow.span.start, ""))
            }
            Expression::Identifier(identifier) => {
                let symbol = self.reference_symbol(identifier)?;
                self.function_of_symbol.get(&symbol).copied()
            }
            _ => None,
        }
    }
}

/// Collects the variables whose members a file assigns (`options.port = p`).
struct FieldCollector<'s> {
    scoping: &'s Scoping,
    found: HashSet<SymbolId>,
}

impl<'a> Visit<'a> for FieldCollector<'_> {
    fn visit_assignment_expression(&mut self, assignment: &AssignmentExpression<'a>) {
        if let AssignmentTarget::StaticMemberExpression(member) = &assignment.left
            && let Expression::Identifier(object) = member.object.without_parentheses()
            && let Some(reference) = object.reference_id.get()
            && let Some(symbol) = self.scoping.get_reference(reference).symbol_id()
        {
            self.found.insert(symbol);
        }
        walk::walk_assignment_expression(self, assignment);
    }
}

/// The array literal a destructured initialiser lists, through `await` and
/// `Promise.all` (`[a, b]`, `await Promise.all([a, b])`).
fn listed_elements<'e, 'a>(
    init: &'e Expression<'a>,
) -> Option<&'e oxc_ast::ast::ArrayExpression<'a>> {
    match init.without_parentheses() {
        Expression::ArrayExpression(array) => Some(array),
        Expression::AwaitExpression(inner) => listed_elements(&inner.argument),
        Expression::CallExpression(call)
            if call.callee.is_specific_member_access("Promise", "all")
                || call
                    .callee
                    .is_specific_member_access("Promise", "allSettled") =>
        {
            listed_elements(call.arguments.first()?.as_expression()?)
        }
        _ => None,
    }
}

fn bind_parameters(flow: &mut FileFlow, params: &[Node], arguments: &[Value]) {
    for (param, argument) in params.iter().zip(arguments) {
        flow.flow_into(*param, argument);
    }
    // `function f(...args)` and `arguments`: extra arguments reach the last one.
    if let Some(last) = params.last() {
        for argument in arguments.iter().skip(params.len()) {
            flow.flow_into(*last, argument);
        }
    }
}

/// Text that reads as a word or a command: printable ASCII, with letters.
/// Characters written as numeric HTML entities (`&#x68;`, `&#104;`): markup that
/// spells its text this way hides it from a reader.
fn html_entities(text: &str) -> usize {
    text.match_indices("&#")
        .filter(|(at, _)| {
            let rest = &text[at + 2..];
            let digits = rest.strip_prefix(['x', 'X']).map_or_else(
                || rest.bytes().take_while(u8::is_ascii_digit).count(),
                |hex| hex.bytes().take_while(u8::is_ascii_hexdigit).count(),
            );
            digits > 0
        })
        .count()
}

fn readable_word(text: &str) -> bool {
    text.len() >= 3
        && text
            .bytes()
            .all(|byte| byte.is_ascii_graphic() || byte == b' ')
        && text.bytes().filter(u8::is_ascii_alphabetic).count() * 2 >= text.len()
}

/// The operands of `a + b + c …` in order, walking the left-nested spine (at most
/// `max` of them; the rest stay folded in the first).
fn addition_parts<'e, 'a>(
    binary: &'e oxc_ast::ast::BinaryExpression<'a>,
    max: usize,
) -> Vec<&'e Expression<'a>> {
    let mut parts = vec![&binary.right];
    let mut left = &binary.left;
    while let Expression::BinaryExpression(inner) = left.without_parentheses()
        && inner.operator == BinaryOperator::Addition
        && parts.len() < max
    {
        parts.push(&inner.right);
        left = &inner.left;
    }
    parts.push(left);
    parts.reverse();
    parts
}

/// A template literal's literal part, as the engine reads it.
fn quasi_text<'e>(quasi: &'e oxc_ast::ast::TemplateElement<'_>) -> &'e str {
    quasi
        .value
        .cooked
        .as_ref()
        .map_or(quasi.value.raw.as_str(), |cooked| cooked.as_str())
}

/// Whether an expression XORs inside (`s.charCodeAt(i) ^ key`): a decoding loop.
fn xor_inside(expression: &Expression<'_>) -> bool {
    match expression.without_parentheses() {
        Expression::BinaryExpression(binary) => {
            binary.operator == BinaryOperator::BitwiseXOR
                || xor_inside(&binary.left)
                || xor_inside(&binary.right)
        }
        Expression::CallExpression(call) => call
            .arguments
            .iter()
            .any(|argument| argument.as_expression().is_some_and(xor_inside)),
        _ => false,
    }
}

/// `s.split('')` under a `.reverse()`: the string being reversed.
fn reversed_split<'e, 'a>(expression: &'e Expression<'a>) -> Option<&'e Expression<'a>> {
    let Expression::CallExpression(reverse) = expression.without_parentheses() else {
        return None;
    };
    let member = reverse.callee.as_member_expression()?;
    if member.static_property_name()? != "reverse" {
        return None;
    }
    let Expression::CallExpression(split) = member.object().without_parentheses() else {
        return None;
    };
    let member = split.callee.as_member_expression()?;
    if member.static_property_name()? != "split" {
        return None;
    }
    match split.arguments.first().and_then(Argument::as_expression) {
        Some(Expression::StringLiteral(separator)) if separator.value.is_empty() => {
            Some(member.object())
        }
        _ => None,
    }
}

fn inline_function_start(expression: Option<&Expression<'_>>) -> Option<u32> {
    match expression?.without_parentheses() {
        Expression::FunctionExpression(function) => Some(function.span.start),
        Expression::ArrowFunctionExpression(arrow) => Some(arrow.span.start),
        _ => None,
    }
}

/// The mailbox a mail transport's options log in to with a user and a password
/// both written as literals (`auth: { user: 'x@gmail.com', pass: '…' }`): its host
/// or service, else the user's domain.
fn written_mailbox(arguments: &[Argument<'_>]) -> Option<String> {
    let Some(Argument::ObjectExpression(options)) = arguments.first() else {
        return None;
    };
    let Some(Expression::ObjectExpression(auth)) = property(options, "auth") else {
        return None;
    };
    let literal = |object: &ObjectExpression<'_>, key: &str| match property(object, key) {
        Some(Expression::StringLiteral(text)) if !text.value.is_empty() => {
            Some(text.value.to_string())
        }
        _ => None,
    };
    let user = literal(auth, "user")?;
    literal(auth, "pass")?;
    literal(options, "host")
        .or_else(|| literal(options, "service"))
        .or_else(|| user.split_once('@').map(|(_, domain)| domain.to_owned()))
        .or(Some(user))
}

/// The value of an object literal's property, by its static name.
fn property<'e, 'a>(object: &'e ObjectExpression<'a>, key: &str) -> Option<&'e Expression<'a>> {
    object
        .properties
        .iter()
        .find_map(|property| match property {
            ObjectPropertyKind::ObjectProperty(property)
                if property.key.static_name().as_deref() == Some(key) =>
            {
                Some(&property.value)
            }
            _ => None,
        })
}

/// Whether `a.b.c` starts at `module.exports` or the free `exports`.
fn exports_root(expression: &Expression<'_>) -> bool {
    match expression.without_parentheses() {
        Expression::Identifier(identifier) => identifier.name == "exports",
        expression => match expression.as_member_expression() {
            Some(member) => {
                (member.object().is_specific_id("module")
                    && member.static_property_name() == Some("exports"))
                    || exports_root(member.object())
            }
            None => false,
        },
    }
}

/// Methods that re-encode what they are given without losing it.
fn encoder(method: &str) -> bool {
    let lower = method.to_ascii_lowercase();
    [
        "encode",
        "stringify",
        "serialize",
        "tostring",
        "tobase",
        "tohex",
        "format",
        "compress",
        "deflate",
        "gzip",
        "encrypt",
        "escape",
    ]
    .iter()
    .any(|word| lower.contains(word))
}

/// Identifiers and properties that hold a wallet's secret. A `seed` is a wallet's only in code about wallets (elsewhere it seeds a random
/// generator).
pub(crate) fn key_material(name: &str, wallet_file: bool) -> bool {
    // The names below, with a few underscores at most.
    if !(4..=24).contains(&name.len()) {
        return false;
    }
    // `SECRET_KEY` names a setting (an API secret), not a wallet's key.
    if name.bytes().any(|byte| byte.is_ascii_uppercase())
        && !name.bytes().any(|byte| byte.is_ascii_lowercase())
    {
        return false;
    }
    let folded: String = name
        .chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    // A recovery phrase is a wallet's wherever it appears; a private or secret key
    // is a wallet's in code about wallets (elsewhere a TLS key, an API secret), and
    // so is a seed (elsewhere it seeds a random generator).
    matches!(
        folded.as_str(),
        "mnemonic" | "seedphrase" | "secretrecoveryphrase" | "mnemonicphrase"
    ) || (wallet_file
        && matches!(
            folded.as_str(),
            "privatekey" | "secretkey" | "privkey" | "seed"
        ))
}

/// What an environment variable tells, by its name.
pub(crate) fn env_kinds(name: &str) -> Mask {
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("NPM_PACKAGE_") {
        return Kind::PackageMeta.bit();
    }
    if upper.starts_with("NPM_CONFIG_") {
        return if upper.contains("TOKEN") || upper.contains("AUTH") {
            Kind::Secret.bit()
        } else {
            Mask::EMPTY
        };
    }
    if matches!(
        upper.as_str(),
        "USER"
            | "USERNAME"
            | "LOGNAME"
            | "HOME"
            | "USERPROFILE"
            | "COMPUTERNAME"
            | "HOSTNAME"
            | "USERDOMAIN"
            | "HOMEPATH"
    ) {
        return Kind::Identity.bit();
    }
    if matches!(upper.as_str(), "PWD" | "INIT_CWD" | "OLDPWD") {
        return Kind::Location.bit();
    }
    let secret = [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "API_KEY",
        "APIKEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|word| upper.contains(word))
        || upper.ends_with("_KEY")
        || upper.ends_with("_AUTH");
    if secret {
        return Kind::Secret.bit();
    }
    Mask::EMPTY
}

impl<'a> Visit<'a> for FlowBuilder<'_> {
    fn visit_function(&mut self, function: &Function<'a>, flags: ScopeFlags) {
        let name = function
            .id
            .as_ref()
            .map_or("", |id| id.name.as_str())
            .to_owned();
        if let Some(id) = &function.id
            && let Some(symbol) = id.symbol_id.get()
            && function.is_declaration()
        {
            let index = self.function_index(function.span.start, &name);
            self.function_of_symbol.insert(symbol, index);
        }
        self.enter_function(function.span.start, &name, &function.params);
        walk::walk_function(self, function, flags);
        self.function_stack.pop();
    }

    fn visit_method_definition(&mut self, method: &oxc_ast::ast::MethodDefinition<'a>) {
        if let Some(name) = method.key.static_name() {
            let index = self.function_index(method.value.span.start, &name);
            self.flow.methods.push((name.to_string(), index));
        }
        walk::walk_method_definition(self, method);
    }

    fn visit_object_property(&mut self, property: &oxc_ast::ast::ObjectProperty<'a>) {
        if let (Some(name), Some(start)) = (
            property.key.static_name(),
            inline_function_start(Some(&property.value)),
        ) {
            let index = self.function_index(start, &name);
            self.flow.methods.push((name.to_string(), index));
        }
        walk::walk_object_property(self, property);
    }

    fn visit_arrow_function_expression(&mut self, arrow: &ArrowFunctionExpression<'a>) {
        self.enter_function(arrow.span.start, "", &arrow.params);
        walk::walk_arrow_function_expression(self, arrow);
        if let Some(expression) = arrow.get_expression() {
            let value = self.value_of(expression);
            let (index, _) = *self.function_stack.last().expect("entered above");
            let ret = self.flow.functions[index as usize].ret;
            self.flow.flow_into(ret, &value);
        }
        self.function_stack.pop();
    }

    fn visit_return_statement(&mut self, statement: &ReturnStatement<'a>) {
        walk::walk_return_statement(self, statement);
        if let (Some(argument), Some((index, _))) =
            (&statement.argument, self.function_stack.last().copied())
        {
            let value = self.value_of(argument);
            let ret = self.flow.functions[index as usize].ret;
            self.flow.flow_into(ret, &value);
        }
    }

    fn visit_variable_declarator(&mut self, declarator: &VariableDeclarator<'a>) {
        walk::walk_variable_declarator(self, declarator);
        let Some(init) = &declarator.init else {
            return;
        };
        // `const { HOME, NODE_ENV } = process.env`: each name what it reads.
        if let BindingPattern::ObjectPattern(pattern) = &declarator.id
            && self.qualified(init).as_deref() == Some("process.env")
        {
            for property in &pattern.properties {
                let (Some(key), BindingPattern::BindingIdentifier(local)) =
                    (property.key.static_name(), &property.value)
                else {
                    continue;
                };
                let kinds = env_kinds(&key);
                if let (false, Some(symbol)) = (kinds.is_empty(), local.symbol_id.get()) {
                    let origin =
                        self.cached_origin(property.span, kinds, &format!("process.env.{key}"));
                    let node = self.symbol_node(symbol);
                    self.flow.flow_into(node, &origin);
                }
            }
            if let Some(rest) = &pattern.rest {
                let origin = self.cached_origin(rest.span, Kind::EnvAll.bit(), "process.env");
                self.bind_pattern(&rest.argument, &origin);
            }
            return;
        }
        // `const [port, check] = await Promise.all([a(), b()])`: element by element.
        if let BindingPattern::ArrayPattern(pattern) = &declarator.id
            && let Some(array) = listed_elements(init)
            && pattern.rest.is_none()
        {
            for (element, item) in pattern.elements.iter().zip(&array.elements) {
                let (Some(element), Some(item)) = (element, item.as_expression()) else {
                    continue;
                };
                let value = self.value_of(item);
                self.bind_pattern(element, &value);
            }
            return;
        }
        let value = self.value_of(init);
        self.bind_pattern(&declarator.id, &value);
        match &declarator.id {
            BindingPattern::BindingIdentifier(identifier) => {
                if let Some(symbol) = identifier.symbol_id.get() {
                    self.note_binding(symbol, init);
                }
            }
            // `const { exec, hostname: h } = require('x')`.
            BindingPattern::ObjectPattern(pattern) => {
                if let Some(module) = self.loaded_module(init) {
                    for property in &pattern.properties {
                        let Some(key) = property.key.static_name() else {
                            continue;
                        };
                        if let BindingPattern::BindingIdentifier(local) = &property.value
                            && let Some(symbol) = local.symbol_id.get()
                        {
                            self.modules.insert(symbol, module.member(&key));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn visit_assignment_expression(&mut self, assignment: &AssignmentExpression<'a>) {
        walk::walk_assignment_expression(self, assignment);
        self.assign_to_target(&assignment.left, &assignment.right);
    }

    fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
        // Aliased and folded requires too (`var r = require; r('./' + 'b')`).
        if let Some(module) = self.required_module(call)
            && module.starts_with('.')
        {
            self.flow.links.push(module);
        }
        self.mark_inline(&call.callee, &call.arguments);
        self.note_request_handler(call);
        walk::walk_call_expression(self, call);
        self.effects_of_call(call);
    }

    fn visit_new_expression(&mut self, new: &NewExpression<'a>) {
        self.mark_inline(&new.callee, &new.arguments);
        walk::walk_new_expression(self, new);
        let (qualified, role) = self.role_of(&new.callee);
        let api = qualified.unwrap_or_default();
        match role {
            Some(Role::Sink(kind)) => {
                self.sink(new.span, kind, api, &new.arguments);
            }
            Some(Role::Handle(kind)) => {
                let sink = self.sink(new.span, kind, api, &new.arguments);
                self.handle_calls.insert(new.span.start, sink);
            }
            _ => {
                if let Some((_, what)) = apis::WEBHOOK_CLIENTS.iter().find(|(name, _)| *name == api)
                {
                    let sink = self.sink(new.span, SinkKind::Http, api.clone(), &new.arguments);
                    self.handle_calls.insert(new.span.start, sink);
                    // The client's endpoint is the service itself.
                    let origin = self.origin(
                        Kind::HostExfil.bit(),
                        new.span,
                        format!("new {api}(…)"),
                        Some((api.clone(), HostClass::Exfil(what))),
                    );
                    let node = self.flow.sinks[sink].node;
                    self.flow.seeds.push((node, origin));
                }
            }
        }
    }

    fn visit_for_of_statement(&mut self, statement: &ForOfStatement<'a>) {
        walk::walk_for_of_statement(self, statement);
        self.bind_loop(&statement.left, &statement.right);
    }

    fn visit_for_in_statement(&mut self, statement: &ForInStatement<'a>) {
        walk::walk_for_in_statement(self, statement);
        self.bind_loop(&statement.left, &statement.right);
    }

    fn visit_import_declaration(&mut self, import: &ImportDeclaration<'a>) {
        if import.source.value.starts_with('.') {
            self.flow.links.push(import.source.value.to_string());
        }
        let module = import.source.value.as_str();
        let module = module.strip_prefix("node:").unwrap_or(module).to_owned();
        if let Some(specifiers) = &import.specifiers {
            for specifier in specifiers {
                let (local, path) = match specifier {
                    ImportDeclarationSpecifier::ImportSpecifier(named) => {
                        (&named.local, named.imported.name().to_string())
                    }
                    ImportDeclarationSpecifier::ImportDefaultSpecifier(default) => {
                        (&default.local, String::new())
                    }
                    ImportDeclarationSpecifier::ImportNamespaceSpecifier(namespace) => {
                        (&namespace.local, String::new())
                    }
                };
                if let Some(symbol) = local.symbol_id.get() {
                    self.modules.insert(
                        symbol,
                        ModuleRef {
                            module: module.clone(),
                            path,
                        },
                    );
                }
            }
        }
        walk::walk_import_declaration(self, import);
    }

    fn visit_export_declaration(&mut self, export: &ExportDeclaration<'a>) {
        walk::walk_export_declaration(self, export);
        match &export.declaration {
            oxc_ast::ast::Declaration::FunctionDeclaration(function) => {
                if let Some(id) = &function.id {
                    let name = id.name.as_str().to_owned();
                    let index = self.function_index(function.span.start, &name);
                    let ret = self.flow.functions[index as usize].ret;
                    let node = self.export_member(&name);
                    self.flow.edges.push((ret, node, false));
                    self.flow.export_functions.push((name, index));
                }
            }
            oxc_ast::ast::Declaration::VariableDeclaration(variables) => {
                for declarator in &variables.declarations {
                    for identifier in declarator.id.get_binding_identifiers() {
                        if let Some(symbol) = identifier.symbol_id.get() {
                            let from = self.symbol_node(symbol);
                            let node = self.export_member(identifier.name.as_str());
                            self.flow.edges.push((from, node, false));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn visit_export_all_declaration(&mut self, export: &ExportAllDeclaration<'a>) {
        if export.source.value.starts_with('.') {
            self.flow.links.push(export.source.value.to_string());
        }
        walk::walk_export_all_declaration(self, export);
    }

    fn visit_export_from_declaration(&mut self, export: &ExportFromDeclaration<'a>) {
        if export.source.value.starts_with('.') {
            self.flow.links.push(export.source.value.to_string());
        }
        walk::walk_export_from_declaration(self, export);
    }

    fn visit_export_named_declaration(&mut self, export: &ExportNamedDeclaration<'a>) {
        walk::walk_export_named_declaration(self, export);
        for specifier in &export.specifiers {
            if let ModuleExportName::IdentifierReference(local) = &specifier.local
                && let Some(symbol) = self.reference_symbol(local)
            {
                let from = self.symbol_node(symbol);
                let name = specifier.exported.name().to_string();
                let node = self.export_member(&name);
                self.flow.edges.push((from, node, false));
            }
        }
    }

    fn visit_export_default_declaration(&mut self, export: &ExportDefaultDeclaration<'a>) {
        walk::walk_export_default_declaration(self, export);
        let value = match &export.declaration {
            ExportDefaultDeclarationKind::FunctionDeclaration(function) => {
                let index = self.function_index(function.span.start, "default");
                self.flow.export_functions.push((String::new(), index));
                Value::read(self.flow.functions[index as usize].ret)
            }
            ExportDefaultDeclarationKind::ClassDeclaration(_)
            | ExportDefaultDeclarationKind::TSInterfaceDeclaration(_) => Value::default(),
            declaration => match declaration.as_expression() {
                Some(expression) => self.value_of(expression),
                None => Value::default(),
            },
        };
        let node = self.exports_node();
        self.flow.flow_into(node, &value);
    }
}

impl FlowBuilder<'_> {
    fn bind_loop(&mut self, left: &ForStatementLeft<'_>, right: &Expression<'_>) {
        let value = self.value_of(right);
        match left {
            ForStatementLeft::VariableDeclaration(declaration) => {
                for declarator in &declaration.declarations {
                    self.bind_pattern(&declarator.id, &value);
                }
            }
            ForStatementLeft::AssignmentTargetIdentifier(identifier) => {
                if let Some(symbol) = self.reference_symbol(identifier) {
                    let node = self.symbol_node(symbol);
                    self.flow.flow_into(node, &value);
                }
            }
            _ => {}
        }
    }
}

/// `form.elements[i]`, `document.forms[0].elements.x`: one field of a form.
fn is_form_element(expression: &Expression<'_>) -> bool {
    let Some(member) = expression.without_parentheses().as_member_expression() else {
        return false;
    };
    member
        .object()
        .without_parentheses()
        .as_member_expression()
        .is_some_and(|parent| parent.static_property_name() == Some("elements"))
}

/// `event.key`, `keyEvent.keyCode`: the key a keyboard event carries. Only an event
/// named as one: in minified code every parameter is `e`, and an editor's bundle
/// passes keys through its own machinery to its own services.
fn is_key_of_event(name: &str, object: &Expression<'_>) -> bool {
    matches!(name, "key" | "keyCode" | "charCode" | "which")
        && matches!(
            object.without_parentheses(),
            Expression::Identifier(event)
                if matches!(event.name.as_str(), "event" | "keyEvent" | "keyboardEvent" | "keyupEvent" | "keydownEvent")
        )
}

/// How many of a `+` chain's operands are character picks.
fn character_picks(binary: &oxc_ast::ast::BinaryExpression<'_>) -> usize {
    let mut picks = usize::from(is_character_pick(&binary.right));
    let mut left = &binary.left;
    while let Expression::BinaryExpression(inner) = left.without_parentheses()
        && inner.operator == BinaryOperator::Addition
    {
        picks += usize::from(is_character_pick(&inner.right));
        left = &inner.left;
    }
    picks + usize::from(is_character_pick(left))
}

/// `alphabet[12]`: a constant index into something.
fn is_character_pick(expression: &Expression<'_>) -> bool {
    matches!(
        expression.without_parentheses(),
        Expression::ComputedMemberExpression(member)
            if matches!(member.expression.without_parentheses(), Expression::NumericLiteral(_))
    )
}
