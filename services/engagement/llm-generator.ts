/**
 * The OpenAI-compatible adapter of the generator: `POST {LLM_BASE_URL}/chat/completions` with the
 * configured model and key (Bearer), `temperature: 0` and the answer's JSON schema as
 * `response_format`. Each request has LLM_TIMEOUT_MS; a network error, a timeout, 429 or 5xx is
 * retried LLM_RETRIES times with doubling backoff; consecutive failures open a circuit breaker
 * (LLM_BREAKER_*). Whatever goes wrong — the provider down, the breaker open, an answer that is not
 * JSON or does not match the schema — the offline generator answers instead and the fallback is
 * logged with its reason. README, "Engagement domain" → "Challenges and the agent API".
 */
import type { Service } from "moleculer";
import type { Config } from "../../lib/config";
import { CircuitBreaker } from "../social/circuit-breaker";
import { challengeSchema, offlineGenerator, understoodSchema, type ChallengeInputs, type Generator, type UnderstandInputs } from "./generator";
import { schemaError, type JsonSchema } from "./json-schema";
import { withoutTrailingSlashes } from "../../lib/text";

/** A failure worth retrying (the provider may answer next time). */
class TransientLlmError extends Error {}
/** An answer that arrived but cannot be used (no retry: the same question gets the same kind of answer). */
class UnusableAnswerError extends Error {}

const INSTRUCTIONS = {
	challenge:
		"You design one productivity challenge for a user from their open tasks and unlocked skills. Answer with JSON only, matching the schema: a title, a short description, how many tasks to complete (target), the tag they must carry or null, a reward in one of the given currencies, and the duration in hours.",
	understand:
		"You turn a sentence into a task. Answer with JSON only, matching the schema: a short title without the date or priority words, dueAt as an ISO 8601 date-time with offset (in the user's time zone, relative to the given now) or null, a priority, and lowercase tags.",
};

export class LlmGenerator implements Generator {
	readonly name = "llm";
	private readonly breaker: CircuitBreaker;

	constructor(
		private readonly cfg: Pick<
			Config,
			"LLM_BASE_URL" | "LLM_MODEL" | "LLM_API_KEY" | "LLM_TIMEOUT_MS" | "LLM_RETRIES" | "LLM_BREAKER_THRESHOLD" | "LLM_BREAKER_COOLDOWN_MS"
		>,
		private readonly logger: Service["logger"],
	) {
		this.breaker = new CircuitBreaker({
			name: "LLM",
			threshold: cfg.LLM_BREAKER_THRESHOLD,
			cooldownMs: cfg.LLM_BREAKER_COOLDOWN_MS,
			// an unusable answer means the provider is up
			isFailure: err => !(err instanceof UnusableAnswerError),
		});
	}

	async challenge(inputs: ChallengeInputs) {
		try {
			const spec = await this.ask("challenge", challengeSchema(inputs.currencies), inputs);
			return { ...(spec as Awaited<ReturnType<Generator["challenge"]>>), generator: "llm" };
		} catch (err) {
			this.logger.warn("LLM challenge not used: the offline generator answered", { reason: (err as Error).message });
			return offlineGenerator.challenge(inputs);
		}
	}

	async understandTask(inputs: UnderstandInputs) {
		try {
			const task = (await this.ask("understand", understoodSchema, {
				text: inputs.text,
				now: inputs.now.toISOString(),
				timeZone: inputs.timeZone,
			})) as Awaited<ReturnType<Generator["understandTask"]>>;
			const dueAt = task.dueAt === null ? null : Date.parse(task.dueAt);
			if (dueAt !== null && Number.isNaN(dueAt)) throw new UnusableAnswerError(`dueAt is not a date: ${task.dueAt}`);
			return {
				...task,
				dueAt: dueAt === null ? null : new Date(dueAt).toISOString(),
				tags: task.tags.map(t => t.toLowerCase()),
				generator: "llm",
			};
		} catch (err) {
			this.logger.warn("LLM task understanding not used: the offline generator answered", { reason: (err as Error).message });
			return offlineGenerator.understandTask(inputs);
		}
	}

	private async ask(kind: keyof typeof INSTRUCTIONS, schema: JsonSchema, input: unknown): Promise<unknown> {
		for (let attempt = 0; ; attempt++) {
			try {
				return await this.breaker.run(() => this.request(kind, schema, input));
			} catch (err) {
				if (!(err instanceof TransientLlmError) || attempt >= this.cfg.LLM_RETRIES) throw err;
				await new Promise(r => setTimeout(r, 200 * 2 ** attempt));
			}
		}
	}

	private async request(kind: keyof typeof INSTRUCTIONS, schema: JsonSchema, input: unknown): Promise<unknown> {
		let res: Response;
		try {
			res = await fetch(`${withoutTrailingSlashes(this.cfg.LLM_BASE_URL!)}/chat/completions`, {
				method: "POST",
				headers: { "content-type": "application/json", ...(this.cfg.LLM_API_KEY && { authorization: `Bearer ${this.cfg.LLM_API_KEY}` }) },
				body: JSON.stringify({
					model: this.cfg.LLM_MODEL,
					temperature: 0,
					messages: [
						{ role: "system", content: INSTRUCTIONS[kind] },
						{ role: "user", content: JSON.stringify(input) },
					],
					response_format: { type: "json_schema", json_schema: { name: kind, strict: true, schema } },
				}),
				signal: AbortSignal.timeout(this.cfg.LLM_TIMEOUT_MS),
			});
		} catch (err) {
			throw new TransientLlmError(`request failed: ${(err as Error).name === "TimeoutError" ? "timed out" : (err as Error).message}`);
		}
		if (res.status === 429 || res.status >= 500) throw new TransientLlmError(`provider answered ${res.status}`);
		if (!res.ok) throw new UnusableAnswerError(`provider answered ${res.status}`);
		const body = (await res.json().catch(() => null)) as { choices?: { message?: { content?: unknown } }[] } | null;
		const content = body?.choices?.[0]?.message?.content;
		if (typeof content !== "string") throw new UnusableAnswerError("no message content in the answer");
		let parsed: unknown;
		try {
			parsed = JSON.parse(content);
		} catch {
			throw new UnusableAnswerError("the answer is not JSON");
		}
		const invalid = schemaError(schema, parsed);
		if (invalid) throw new UnusableAnswerError(`the answer does not match the schema: ${invalid}`);
		return parsed;
	}
}

/** The configured generator: the adapter when LLM_BASE_URL is set, else the offline one. */
export function generatorFor(cfg: Config, logger: Service["logger"]): Generator {
	return cfg.LLM_BASE_URL ? new LlmGenerator(cfg, logger) : offlineGenerator;
}
