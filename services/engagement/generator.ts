/**
 * The pluggable generator behind challenges and task understanding (README, "Engagement domain" →
 * "Challenges and the agent API"): an interface, the schemas of its answers, and the offline
 * rule-based default — deterministic for the same inputs, no network. `llm-generator.ts` is the
 * OpenAI-compatible adapter; it falls back to this one when the model's answer does not validate.
 */
import type { JsonSchema } from "./json-schema";
import { understandOffline } from "./understand";

export interface ChallengeInputs {
	/** the caller's open tasks: what a challenge asks them to finish */
	openTasks: { title: string; tags: string[]; priority: string }[];
	/** skills the caller has unlocked (harder challenges for more skills) */
	skills: string[];
	/** currencies a reward may be paid in */
	currencies: string[];
	/** a head-to-head challenge against this member, or a solo one */
	opponentId: string | null;
}

export interface ChallengeSpec {
	title: string;
	description: string;
	/** how many tasks to complete (with `tag`, when not null) before the challenge expires */
	target: number;
	tag: string | null;
	reward: { currency: string; amount: number };
	durationHours: number;
}

export interface UnderstandInputs {
	text: string;
	/** the reference instant (the caller's "now") */
	now: Date;
	/** the caller's IANA time zone ("Europe/Lisbon") */
	timeZone: string;
}

export interface UnderstoodTask {
	title: string;
	dueAt: string | null;
	priority: "low" | "medium" | "high" | "urgent";
	tags: string[];
}

export interface Generator {
	readonly name: string;
	challenge(inputs: ChallengeInputs): Promise<ChallengeSpec & { generator: string }>;
	understandTask(inputs: UnderstandInputs): Promise<UnderstoodTask & { generator: string }>;
}

export function challengeSchema(currencies: string[]): JsonSchema {
	return {
		type: "object",
		additionalProperties: false,
		required: ["title", "description", "target", "tag", "reward", "durationHours"],
		properties: {
			title: { type: "string", minLength: 1, maxLength: 120 },
			description: { type: "string", maxLength: 500 },
			target: { type: "integer", minimum: 1, maximum: 50 },
			tag: { type: ["string", "null"], maxLength: 40 },
			reward: {
				type: "object",
				additionalProperties: false,
				required: ["currency", "amount"],
				properties: { currency: { type: "string", enum: currencies }, amount: { type: "integer", minimum: 1, maximum: 1000 } },
			},
			durationHours: { type: "integer", minimum: 1, maximum: 720 },
		},
	};
}

export const understoodSchema: JsonSchema = {
	type: "object",
	additionalProperties: false,
	required: ["title", "dueAt", "priority", "tags"],
	properties: {
		title: { type: "string", minLength: 1, maxLength: 200 },
		dueAt: { type: ["string", "null"], maxLength: 40 },
		priority: { type: "string", enum: ["low", "medium", "high", "urgent"] },
		tags: { type: "array", maxItems: 20, items: { type: "string", minLength: 1, maxLength: 40 } },
	},
};

/** Most frequent tag of the open tasks (ties: alphabetical), or null. */
function topTag(tasks: ChallengeInputs["openTasks"]): { tag: string | null; count: number } {
	const counts = new Map<string, number>();
	for (const t of tasks) for (const tag of t.tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
	const [best] = [...counts.entries()].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
	return best ? { tag: best[0], count: best[1] } : { tag: null, count: tasks.length };
}

export const offlineGenerator: Generator = {
	name: "offline",
	async challenge(inputs) {
		const { tag, count } = topTag(inputs.openTasks);
		// one more task for every two skills, never more than there are open tasks to finish (at least 1)
		const target = Math.max(1, Math.min(count, 2 + Math.floor(inputs.skills.length / 2)));
		const currency = inputs.currencies.includes("coins") ? "coins" : inputs.currencies[0];
		const what = tag ? `"${tag}" task${target > 1 ? "s" : ""}` : `task${target > 1 ? "s" : ""}`;
		return {
			generator: "offline",
			title: `${inputs.opponentId ? "Duel: " : ""}finish ${target} ${what}`,
			description: inputs.opponentId ? `Finish ${target} ${what} within 3 days to win the duel.` : `Finish ${target} ${what} within 3 days.`,
			target,
			tag,
			reward: { currency, amount: 10 * target + (inputs.opponentId ? 10 : 0) },
			durationHours: 72,
		};
	},
	async understandTask(inputs) {
		return { ...understandOffline(inputs), generator: "offline" };
	},
};
