// ODK Web Forms' engine (@getodk/xforms-engine) as a headless client of digifit's XForms.
//
// Reads {"forms": [{"name", "xform", "steps": [...]}, ...]} as JSON on stdin; for each form it loads the
// XForm, creates an instance and runs the steps in order, as a person filling the form in ODK Web Forms
// would; it prints {"node": version, "engine": version, "forms": [{"name", "status", "error", "warnings",
// "results", "violations", "payload_status", "instance_xml"}]} as JSON on stdout. One process for every form.
//
// Steps (``ref`` is an engine reference such as "/data/profile/country" or "/data/tools[2]/tool_name"):
//   {"set": ref, "value": "12"}             an input's value (text, integer, decimal, date ... as typed)
//   {"select": ref, "values": ["a", "b"]}   a select_one / select_multiple's choices ([] clears it)
//   {"add_repeat": ref}                     one more instance of a repeat (as the "+" button)
//   {"probe": ref}                          report the node's state: relevant, required, value, validity,
//                                           its violation message and, for a select, its choices now offered
// Each step gives one entry of "results" (the probe's state, or {"ok": true}); a step that fails gives
// {"error": message} and the form carries on with the next step.
//
// The engine runs in Node with jsdom's DOM, as its own test suite does.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { JSDOM } from 'jsdom';

const { window } = new JSDOM('');
for (const name of ['document', 'DOMParser', 'XMLSerializer', 'Node', 'Element', 'Attr', 'Text', 'Document', 'XMLDocument', 'NodeFilter', 'XPathResult']) {
	if (!(name in globalThis)) globalThis[name] = window[name];
}
// The engine's bundled tree-sitter (the XPath parser, its WASM inlined) asks for __dirname when it sees
// Node; an ES module has none, so it gets the package's own directory.
// (The package does not export its package.json: it is found as Node finds the package, up the tree.)
const packageDir = (name) => {
	for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
		const candidate = join(dir, 'node_modules', name);
		if (existsSync(join(candidate, 'package.json'))) return candidate;
		if (dirname(dir) === dir) throw new Error(`${name} is not installed (npm ci)`);
	}
};
const engineDir = packageDir('@getodk/xforms-engine');
globalThis.__dirname ??= join(engineDir, 'dist');
const { loadForm } = await import('@getodk/xforms-engine');
const engineVersion = JSON.parse(readFileSync(join(engineDir, 'package.json'), 'utf8')).version;

const message = (error) => {
	const causes = error?.errors ?? (error?.cause ? [error.cause] : []);
	const parts = [String(error?.message ?? error), ...causes.map((c) => String(c?.message ?? c))];
	return parts.filter((p, i) => parts.indexOf(p) === i).join(': ');
};

// Every node of the instance by its reference (repeat instances change the tree, so it is rebuilt each time).
const nodesByReference = (root) => {
	const found = new Map();
	const visit = (node) => {
		found.set(node.currentState.reference, node);
		for (const child of node.currentState.children ?? []) visit(child);
	};
	visit(root);
	return found;
};

const nodeAt = (root, ref) => {
	const node = nodesByReference(root).get(ref);
	if (node == null) throw new Error(`no node ${ref} in the engine's instance`);
	return node;
};

const text = (range) => (range == null ? null : range.asString ?? null);

const probe = (node) => {
	const state = node.currentState;
	const validation = node.validationState ?? {};
	const violation = validation.violation ?? null;
	const value = state.value;
	return {
		node_type: node.nodeType,
		relevant: state.relevant,
		required: state.required,
		readonly: state.readonly,
		value: value == null || typeof value === 'string' || Array.isArray(value) ? value : String(value),
		constraint_valid: validation.constraint?.valid ?? null,
		required_valid: validation.required?.valid ?? null,
		violation: violation == null ? null : { condition: violation.condition, message: text(violation.message) },
		options: node.nodeType === 'select' ? state.valueOptions.map((item) => item.value) : null,
	};
};

const runStep = (root, step) => {
	if ('probe' in step) return probe(nodeAt(root, step.probe));
	if ('set' in step) {
		const node = nodeAt(root, step.set);
		if (typeof node.setValue !== 'function') throw new Error(`${step.set} is a ${node.nodeType}, not an input`);
		node.setValue(step.value);
	} else if ('select' in step) {
		const node = nodeAt(root, step.select);
		if (node.nodeType !== 'select') throw new Error(`${step.select} is a ${node.nodeType}, not a select`);
		node.selectValues(step.values);
	} else if ('add_repeat' in step) {
		const node = nodeAt(root, step.add_repeat);
		if (typeof node.addInstances !== 'function') throw new Error(`${step.add_repeat} is not a repeat`);
		node.addInstances();
	} else {
		throw new Error(`unknown step ${JSON.stringify(step)}`);
	}
	return { ok: true };
};

// Whatever the engine writes to the console while it handles a form is that form's warning.
let warnings = [];
for (const level of ['warn', 'error']) {
	console[level] = (...args) => warnings.push(args.map((a) => message(a)).join(' '));
}

const runForm = async ({ name, xform, steps = [] }) => {
	const result = { name, status: null, error: null, warnings: [], results: [], violations: [], payload_status: null, instance_xml: null };
	warnings = result.warnings;
	const form = await loadForm(xform);
	result.status = form.status;
	if (form.status === 'failure') {
		result.error = message(form.error);
		return result;
	}
	let instance;
	try {
		instance = form.createInstance();
	} catch (error) {
		result.status = 'failure';
		result.error = `createInstance: ${message(error)}`;
		return result;
	}
	const { root } = instance;
	for (const step of steps) {
		try {
			result.results.push(runStep(root, step));
		} catch (error) {
			result.results.push({ error: message(error) });
		}
	}
	result.violations = root.validationState.violations.map((v) => ({
		reference: v.reference,
		condition: v.violation.condition,
		message: text(v.violation.message),
	}));
	// What ODK Web Forms sends: the monolithic payload's xml_submission_file part.
	const payload = await root.prepareInstancePayload({ payloadType: 'monolithic' });
	result.payload_status = payload.status;
	const file = payload.data[0].get('xml_submission_file');
	result.instance_xml = file == null ? null : await file.text();
	return result;
};

const input = JSON.parse(readFileSync(0, 'utf8'));
const forms = [];
for (const form of input.forms) {
	try {
		forms.push(await runForm(form));
	} catch (error) {
		forms.push({ name: form.name, status: 'failure', error: message(error) });
	}
}
process.stdout.write(JSON.stringify({ node: process.version, engine: engineVersion, forms }));
