// Rewrites every JavaScript file under a directory in place, the way attackers and
// bundlers rewrite code, for bench/metamorphic.py. Reads text only: nothing here runs
// the package's code.
//
//     node bench/metamorphic.js MODE DIR
//
// MODE: `minify` (terser: compress and mangle, as a release build ships),
// `obfuscate` (javascript-obfuscator with a base64 string array, as much npm malware
// ships), `split` (every string literal longer than 3 characters cut into pieces joined
// with +, and hex escapes: the cheapest way to hide a host name).
// The transformers come from NODE_PATH (bench/metamorphic.py installs them under
// target/js-tools). Prints one JSON line: {"changed": n, "failed": n, "skipped": n}.

"use strict";
const fs = require("fs");
const path = require("path");

const MAX_BYTES = 256 * 1024;
const SCRIPT = /\.(c|m)?js$/;

function files(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...files(full));
    else if (entry.isFile() && SCRIPT.test(entry.name)) out.push(full);
  }
  return out;
}

async function minify(source) {
  const terser = require("terser");
  const result = await terser.minify(source, {
    compress: { passes: 2 },
    mangle: true,
    module: false,
    toplevel: false,
  });
  return result.code;
}

function obfuscate(source) {
  const obfuscator = require("javascript-obfuscator");
  return obfuscator
    .obfuscate(source, {
      compact: true,
      stringArray: true,
      stringArrayEncoding: ["base64"],
      stringArrayThreshold: 1,
      stringArrayRotate: true,
      stringArrayShuffle: true,
      identifierNamesGenerator: "hexadecimal",
      target: "node",
      ignoreImports: true,
    })
    .getObfuscatedCode();
}

// Cuts string literals with acorn's positions, so only real literals change.
function split(source) {
  const acorn = require("acorn");
  const walk = require("acorn-walk");
  let tree;
  try {
    tree = acorn.parse(source, { ecmaVersion: "latest", sourceType: "script", allowHashBang: true, allowReturnOutsideFunction: true });
  } catch {
    tree = acorn.parse(source, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true });
  }
  const edits = [];
  walk.full(tree, (node) => {
    if (node.type !== "Literal" || typeof node.value !== "string" || node.value.length <= 3) return;
    edits.push([node.start, node.end, node.value]);
  });
  // Literals that must stay literals: require/import specifiers, keys, directives.
  const keep = new Set();
  walk.full(tree, (node) => {
    if (node.type === "ImportDeclaration" || node.type === "ExportNamedDeclaration" || node.type === "ExportAllDeclaration") {
      if (node.source) keep.add(node.source.start);
    }
    if (node.type === "Property" && node.key.type === "Literal" && !node.computed) keep.add(node.key.start);
    if (node.type === "ExpressionStatement" && node.directive) keep.add(node.expression.start);
    if (node.type === "CallExpression" && node.callee.type === "Identifier" && node.callee.name === "require") {
      for (const arg of node.arguments) keep.add(arg.start);
    }
  });
  edits.sort((a, b) => b[0] - a[0]);
  let out = source;
  for (const [start, end, value] of edits) {
    if (keep.has(start)) continue;
    const third = Math.max(1, Math.floor(value.length / 3));
    const pieces = [value.slice(0, third), value.slice(third, 2 * third), value.slice(2 * third)];
    const hex = (text) => '"' + [...text].map((c) => c.charCodeAt(0) < 256 ? "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0") : JSON.stringify(c).slice(1, -1)).join("") + '"';
    out = out.slice(0, start) + "(" + pieces.map(hex).join(" + ") + ")" + out.slice(end);
  }
  return out;
}

const MODES = { minify, obfuscate, split };

async function main() {
  const [mode, dir] = process.argv.slice(2);
  const transform = MODES[mode];
  if (!transform || !dir) {
    console.error(`usage: node bench/metamorphic.js (${Object.keys(MODES).join("|")}) DIR`);
    process.exit(2);
  }
  const counts = { changed: 0, failed: 0, skipped: 0 };
  for (const file of files(dir)) {
    const source = fs.readFileSync(file, "utf8");
    if (source.length > MAX_BYTES) {
      counts.skipped++;
      continue;
    }
    try {
      const rewritten = await transform(source);
      if (typeof rewritten === "string" && rewritten.length > 0) {
        fs.writeFileSync(file, rewritten);
        counts.changed++;
      } else {
        counts.failed++;
      }
    } catch {
      counts.failed++;
    }
  }
  console.log(JSON.stringify(counts));
}

main();
