/**
 * Flows (README, "Messaging domain" → "Flows"): a trigger and steps, checked when saved. Steps run in
 * order; `next` (a step id) jumps; `ask` waits for the customer's reply or its timeout. A run executes at
 * most MAX_STEPS_PER_RUN steps in all: a flow that loops is cut off there and logged.
 */
import { escapeRegex } from "../../lib/text";

export const MAX_STEPS_PER_RUN = 50;
export const TRIGGERS = ["inbound", "keyword", "new_customer", "reopened"] as const;
export type TriggerType = (typeof TRIGGERS)[number];

export type Step = { id: string; next?: string | null } & (
	| { type: "send"; templateId?: string; text?: string }
	| { type: "ask"; templateId?: string; text?: string; attribute?: string; timeoutS: number; onTimeout?: string | null }
	| { type: "set_attribute"; key: string; value: string }
	| { type: "tag"; tag: string }
	| { type: "assign"; userId?: string; roundRobin?: string[] }
	| { type: "close" }
);
export interface Trigger {
	type: TriggerType;
	keywords?: string[];
}
export interface FlowDefinition {
	trigger: Trigger;
	steps: Step[];
}

const STEP_TYPES = ["send", "ask", "set_attribute", "tag", "assign", "close"] as const;
const stepId = { type: "string", min: 1, max: 40, pattern: /^[\w-]+$/ } as const;
const maybeId = { type: "string", max: 40, optional: true, nullable: true } as const;

/** fastest-validator schema of a definition (the step-specific rules are checked by checkDefinition). */
export const definitionParams = {
	trigger: {
		type: "object",
		strict: "remove",
		props: {
			type: { type: "enum", values: [...TRIGGERS] },
			keywords: { type: "array", max: 20, optional: true, items: { type: "string", min: 1, max: 64, trim: true, lowercase: true } },
		},
	},
	steps: {
		type: "array",
		min: 1,
		max: 50,
		items: {
			type: "object",
			strict: "remove",
			props: {
				id: stepId,
				type: { type: "enum", values: [...STEP_TYPES] },
				next: maybeId,
				templateId: { type: "string", max: 64, optional: true },
				text: { type: "string", min: 1, max: 2000, optional: true },
				attribute: { type: "string", max: 64, pattern: /^[A-Za-z][\w.-]*$/, optional: true },
				timeoutS: { type: "number", integer: true, min: 1, max: 7 * 24 * 3600, optional: true },
				onTimeout: maybeId,
				key: { type: "string", max: 64, pattern: /^[A-Za-z][\w.-]*$/, optional: true },
				value: { type: "string", max: 1000, optional: true },
				tag: { type: "string", min: 1, max: 50, trim: true, lowercase: true, optional: true },
				userId: { type: "string", max: 128, optional: true },
				roundRobin: { type: "array", min: 1, max: 50, optional: true, items: { type: "string", min: 1, max: 128 } },
			},
		},
	},
} as const;

export function checkDefinition(def: FlowDefinition): { field: string; message: string }[] {
	const issues: { field: string; message: string }[] = [];
	if (def.trigger.type === "keyword" && !def.trigger.keywords?.length)
		issues.push({ field: "trigger.keywords", message: "a keyword trigger needs keywords" });
	const ids = new Set<string>();
	def.steps.forEach((s, i) => {
		if (ids.has(s.id)) issues.push({ field: `steps[${i}].id`, message: `'${s.id}' is used twice` });
		ids.add(s.id);
	});
	def.steps.forEach((s, i) => {
		const at = `steps[${i}]`;
		const need = (cond: unknown, field: string, message: string) => !cond && issues.push({ field: `${at}.${field}`, message });
		for (const ref of ["next", "onTimeout"] as const) {
			const target = (s as Record<string, unknown>)[ref];
			if (typeof target === "string" && !ids.has(target)) issues.push({ field: `${at}.${ref}`, message: `no step '${target}'` });
		}
		if (s.type === "send") need(!!s.templateId !== !!s.text, "text", "a send step takes a templateId or a text");
		if (s.type === "ask") {
			need(!!s.templateId !== !!s.text, "text", "an ask step takes a templateId or a text");
			need(s.timeoutS, "timeoutS", "an ask step needs its timeout");
		}
		if (s.type === "set_attribute") need(s.key && s.value !== undefined, "key", "needs key and value");
		if (s.type === "tag") need(s.tag, "tag", "needs the tag");
		if (s.type === "assign") need(!!s.userId !== !!s.roundRobin?.length, "userId", "assign to a userId or roundRobin over members");
	});
	return issues;
}

/** Does a published flow start on this inbound message? */
export function triggers(t: Trigger, e: { text: string | null; customerCreated: boolean; reopened: boolean }): boolean {
	if (t.type === "inbound") return true;
	if (t.type === "new_customer") return e.customerCreated;
	if (t.type === "reopened") return e.reopened;
	const words = (e.text ?? "").toLowerCase();
	return (t.keywords ?? []).some(k => new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegex(k)}($|[^\\p{L}\\p{N}])`, "u").test(words));
}

/** The index of the step after `i`: its `next`, else the following one (-1: the flow ends). */
export function nextIndex(steps: Step[], i: number, jump?: string | null): number {
	const target = jump ?? steps[i].next;
	if (target) return steps.findIndex(s => s.id === target);
	return i + 1 < steps.length ? i + 1 : -1;
}
