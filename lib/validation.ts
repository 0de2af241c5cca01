/**
 * The broker's validator: Moleculer's fastest-validator wrapper with three rules of ours (README: Security).
 *
 * 1. Length before pattern. fastest-validator checks `max` and then runs the pattern (or the e-mail/url
 *    format) anyway, so a megabyte of `@` took seconds in the e-mail regex. Here every string-like rule
 *    with a `max` rejects a longer value first and stops: no pattern ever sees more than `max` characters.
 * 2. Every string-like param has a `max`: `unboundedStrings` finds those that do not (nested object
 *    props, array items, multi rules and record keys included); the Params middleware refuses to start
 *    an action or event that has one.
 * 3. `optional` means "may be absent". fastest-validator also lets `null` through an optional rule, and
 *    handlers then met `null` where they expected a string or an array. Here `null` passes only where the
 *    rule says `nullable: true` (or has a `default`, which replaces it, or is `any`).
 */
import FastestValidatorLib from "fastest-validator";
import { Validators } from "moleculer";

/** Rules whose value is a string checked by a pattern or format: each must declare `max`. */
export const STRING_RULES = ["string", "email", "url", "uuid", "mac", "luhn", "currency"] as const;
const STRING_RULE_SET = new Set<string>(STRING_RULES);

type AnyRule = string | Record<string, unknown> | AnyRule[];
type RuleObject = Record<string, any>;
interface CompiledRule {
	schema: RuleObject;
	messages: Record<string, string>;
}
type RuleFunction = (this: FvInternals, rule: CompiledRule, path: string | null, context: unknown) => { source: string; sanitized?: boolean };
interface FvInternals {
	rules: Record<string, RuleFunction>;
	add(type: string, fn: RuleFunction): void;
	addMessage(name: string, message: string): void;
	makeError(opts: { type: string; expected?: unknown; actual?: unknown; messages: Record<string, string> }): string;
	parseShortHand(rule: string): RuleObject;
	wrapRequiredCheckSourceCode(rule: CompiledRule, innerSrc: string, context: unknown, resVar: string): string;
}

/** The value's length as the rule will measure it (after the trimming the rule itself does). */
function measured(schema: RuleObject): string {
	if (schema.type === "email") return schema.normalize ? "value.trim().length" : "value.length";
	if (schema.type !== "string") return "value.length";
	if (schema.trim || (schema.trimLeft && schema.trimRight)) return "value.trim().length";
	if (schema.trimLeft) return "value.trimStart().length";
	if (schema.trimRight) return "value.trimEnd().length";
	return "value.length";
}

function lengthFirst(original: RuleFunction): RuleFunction {
	return function (this: FvInternals, rule, path, context) {
		const res = original.call(this, rule, path, context);
		const { schema, messages } = rule;
		if (typeof schema.max !== "number") return res;
		const max = Math.floor(schema.max);
		const type = schema.type === "email" ? "emailMax" : "stringMax";
		// `convert: true` strings are converted by the rule itself; measure what it will see.
		const convert =
			schema.type === "string" && schema.convert === true ? 'if (typeof value !== "string" && value != null) value = String(value);' : "";
		const pre = `
			${convert}
			if (typeof value === "string" && value.length > ${max} && ${measured(schema)} > ${max}) {
				${this.makeError({ type, expected: max, actual: `${measured(schema)}`, messages })}
				return value;
			}
		`;
		return { ...res, source: pre + res.source };
	};
}

/** Null only where a rule allows it (see 3. above). */
function strictNulls(fv: FvInternals) {
	const original = fv.wrapRequiredCheckSourceCode;
	fv.addMessage("nullNotAllowed", "The '{field}' field must not be null.");
	fv.wrapRequiredCheckSourceCode = function (this: FvInternals, rule, innerSrc, context, resVar) {
		const s = rule.schema;
		if (s.optional !== true || s.nullable === true || s.default !== undefined || s.type === "any" || s.type === "forbidden")
			return original.call(this, rule, innerSrc, context, resVar);
		return `
			if (value === undefined) { /* optional: may be absent */ }
			else if (value === null) { ${this.makeError({ type: "nullNotAllowed", actual: "value", messages: rule.messages })} }
			${innerSrc ? `else { ${innerSrc} }` : ""}
		`;
	};
}

/** Applies our rules to a fastest-validator instance (the broker's, or a standalone one). */
export function harden<T>(fv: T): T {
	// fastest-validator's typings do not declare the rule table and compile hooks changed here.
	const internals = fv as unknown as FvInternals;
	for (const type of STRING_RULES) internals.add(type, lengthFirst(internals.rules[type]));
	strictNulls(internals);
	return fv;
}

export class BoundedValidator extends Validators.Fastest {
	constructor(opts?: ConstructorParameters<typeof Validators.Fastest>[0]) {
		super(opts);
		// Moleculer's validator typings do not expose the fastest-validator instance it wraps.
		harden((this as unknown as { validator: unknown }).validator);
	}
}

// (the same undeclared internals as in `harden`)
const parser = new FastestValidatorLib() as unknown as FvInternals;

function expand(rule: AnyRule): RuleObject {
	if (typeof rule === "string") return parser.parseShortHand(rule);
	if (Array.isArray(rule)) return { type: "multi", rules: rule };
	if (rule && typeof rule === "object" && "$$type" in rule) {
		const { $$type, ...props } = rule as RuleObject;
		return { ...expand($$type as AnyRule), props };
	}
	return (rule ?? {}) as RuleObject;
}

function walk(rule: AnyRule, path: string, out: string[]) {
	const r = expand(rule);
	if (STRING_RULE_SET.has(r.type) && typeof r.max !== "number") out.push(`${path} (${r.type})`);
	switch (r.type) {
		case "array":
			if (r.items !== undefined) walk(r.items, `${path}[]`, out);
			break;
		case "tuple":
			(Array.isArray(r.items) ? r.items : []).forEach((item: AnyRule, i: number) => walk(item, `${path}[${i}]`, out));
			break;
		case "multi":
			for (const sub of (r.rules ?? []) as AnyRule[]) walk(sub, path, out);
			break;
		case "object":
			walkProps((r.props ?? r.properties ?? {}) as Record<string, AnyRule>, `${path}.`, out);
			break;
		case "record":
			walk((r.key ?? "string") as AnyRule, `${path}{key}`, out);
			walk((r.value ?? "any") as AnyRule, `${path}{}`, out);
			break;
		default:
			break;
	}
}

function walkProps(props: Record<string, AnyRule>, prefix: string, out: string[]) {
	for (const [key, rule] of Object.entries(props)) if (!key.startsWith("$$")) walk(rule, `${prefix}${key}`, out);
}

/** The params (dotted paths) of a `params` schema that are strings without a `max`. */
export function unboundedStrings(params: Record<string, unknown>): string[] {
	const out: string[] = [];
	walkProps(params as Record<string, AnyRule>, "", out);
	return out;
}

/** The id of a stored row in a path or a param (ids are time-ordered strings of 20 characters: README, "Conventions"). */
export const idParam = { type: "string", min: 1, max: 64 } as const;
