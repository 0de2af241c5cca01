/**
 * The agent API (`/api/agent`): task understanding — a sentence to a structured task — through the
 * configured generator (offline with chrono-node by default, the LLM adapter when LLM_BASE_URL is
 * set, falling back to offline). Nothing is stored: the caller creates the task with `POST /api/tasks`.
 */
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { InvalidInputError } from "../../lib/errors";
import type { ServiceSchema } from "../../lib/schema";
import type { ServiceSettingSchema } from "moleculer";
import type { Generator } from "./generator";
import { generatorFor } from "./llm-generator";
import { zoneOffsetMinutes } from "./understand";

interface Vars {
	generator: Generator;
}

const AgentService: ServiceSchema<ServiceSettingSchema, object, Vars> = {
	name: "agent",
	created() {
		this.generator = generatorFor(config(), this.logger);
	},
	actions: {
		understandTask: {
			rest: "POST /understand-task",
			roles: ["member"],
			summary: "Natural language to a task: title, dueAt (read in `timeZone`, an IANA zone, default UTC), priority, tags.",
			timeout: 60_000,
			params: {
				text: { type: "string", min: 1, max: 2000, trim: true },
				timeZone: { type: "string", max: 64, default: "UTC" },
				now: { type: "string", max: 40, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ text: string; timeZone: string; now?: string }>) {
				const { text, timeZone } = ctx.params;
				const now = ctx.params.now ? new Date(ctx.params.now) : new Date();
				if (Number.isNaN(now.getTime()))
					throw new InvalidInputError("now is not a date.", [{ field: "now", message: "must be an ISO 8601 date-time" }]);
				try {
					zoneOffsetMinutes(timeZone, now);
				} catch {
					throw new InvalidInputError("Unknown time zone.", [
						{ field: "timeZone", message: "must be an IANA time zone such as Europe/Lisbon" },
					]);
				}
				return this.generator.understandTask({ text, now, timeZone });
			},
		},
	},
};

export default AgentService;
