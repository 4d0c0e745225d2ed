// Evaluate a table of XLSForm expressions with Enketo's evaluator (npm openrosa-xpath-evaluator), in one process.
//
// Input (stdin, JSON): {"today": "YYYY-MM-DD", "cases": [{"expr": "...", "values": {...}, "context": "name"?}]}
// Output (stdout, JSON): one {"value": "<string() of the result>", "type": "..."} or {"error": "..."} per case.
//
// Each case's answers become an instance document as pyxform would build it: <data> with one element per
// field (a group is an element with children, a repeat one element per instance), and every ${name} the
// expression reads becomes the absolute path of that field (an unknown name is an empty top-level field).
// Run by tests/forms/test_enketo_peer.py with TZ=UTC; today() and now() are frozen at the given date.
'use strict';

process.env.TZ = 'UTC';
const fs = require('fs');
const { JSDOM } = require('jsdom');

const { window } = new JSDOM('');
for (const name of ['XPathEvaluator', 'XPathResult', 'Node', 'Element', 'Attr', 'Document', 'DOMParser']) {
  global[name] = window[name];
}

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const RealDate = Date;
const FROZEN = RealDate.parse(`${input.today}T00:00:00.000Z`);
global.Date = class extends RealDate {
  constructor(...args) {
    if (args.length) super(...args);
    else super(FROZEN);
  }
  static now() {
    return FROZEN;
  }
};

const evaluator = require('openrosa-xpath-evaluator')();

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Build the instance XML of `values` under `path`; record each field's absolute path (first occurrence wins).
function build(values, path, paths) {
  let xml = '';
  for (const [name, value] of Object.entries(values)) {
    const here = `${path}/${name}`;
    if (Array.isArray(value) && value.every(v => v !== null && typeof v === 'object' && !Array.isArray(v))) {
      if (!(name in paths)) paths[name] = here;
      for (const instance of value) xml += `<${name}>${build(instance, here, paths)}</${name}>`;
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      if (!(name in paths)) paths[name] = here;
      xml += `<${name}>${build(value, here, paths)}</${name}>`;
    } else {
      if (!(name in paths)) paths[name] = here;
      const text = value === null ? '' : Array.isArray(value) ? value.join(' ') : value;
      xml += `<${name}>${escape(text)}</${name}>`;
    }
  }
  return xml;
}

function stringOf(result) {
  switch (result.resultType) {
    case XPathResult.NUMBER_TYPE: return { type: 'number', value: String(result.numberValue) };
    case XPathResult.BOOLEAN_TYPE: return { type: 'boolean', value: String(result.booleanValue) };
    case XPathResult.STRING_TYPE: return { type: 'string', value: result.stringValue };
    case XPathResult.UNORDERED_NODE_ITERATOR_TYPE:
    case XPathResult.ORDERED_NODE_ITERATOR_TYPE: {
      const first = result.iterateNext();
      return { type: 'nodeset', value: first ? first.textContent : '' };
    }
    default: // ANY_TYPE with a date: the extension reports its string value
      return { type: 'date', value: result.stringValue };
  }
}

// One document per distinct set of answers (most cases share the table's instance).
const documents = new Map();
function instance(fields) {
  const key = JSON.stringify(fields);
  if (!documents.has(key)) {
    const paths = {};
    const xml = `<data>${build(fields, '/data', paths)}</data>`;
    documents.set(key, { doc: new window.DOMParser().parseFromString(xml, 'application/xml'), paths });
  }
  return documents.get(key);
}

const output = input.cases.map(({ expr, values, context }) => {
  try {
    const fields = { ...(values || {}) };
    const known = {};
    build(fields, '/data', known);
    const names = [...expr.matchAll(/\$\{([^}]*)\}/g)].map(m => m[1]).concat(context ? [context] : []);
    for (const name of names) if (!(name in known)) fields[name] = '';
    const { doc, paths } = instance(fields);
    const xpath = expr.replace(/\$\{([^}]*)\}/g, (_, name) => paths[name]);
    let node = doc;
    if (context) {
      node = doc.evaluate(paths[context], doc, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
    }
    return stringOf(evaluator.evaluate(xpath, node, null, XPathResult.ANY_TYPE, null));
  } catch (error) {
    return { error: String(error && error.message || error) };
  }
});
process.stdout.write(JSON.stringify(output));
