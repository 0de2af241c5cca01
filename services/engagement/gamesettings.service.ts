/**
 * A tenant's game settings (`/api/gamification/settings`): currencies, rules, level curve, badges.
 * A tenant that never saved any plays with the defaults (game-rules.ts). One row per tenant.
 */
import type { Ctx } from "../../lib/context";
import { InvalidInputError } from "../../lib/errors";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { DEFAULT_SETTINGS, settingsParams, type GameSettings } from "./game-rules";

interface SettingsMethods extends TenantDbMethods {
	current(ctx: Ctx<object>): Promise<GameSettings>;
}

const ROW_KEY = "game";

function check(s: GameSettings): void {
	const errors: { field: string; message: string }[] = [];
	const currencies = new Set(s.currencies);
	s.rules.forEach((r, i) => {
		if (!currencies.has(r.currency)) errors.push({ field: `rules[${i}].currency`, message: `is not one of the currencies (${r.currency})` });
	});
	for (const [list, field] of [
		[s.rules, "rules"],
		[s.badges, "badges"],
	] as const) {
		const ids = list.map(x => x.id);
		if (new Set(ids).size !== ids.length) errors.push({ field, message: "ids must be unique" });
	}
	if (errors.length) throw new InvalidInputError("The game settings are not valid.", errors);
}

const GameSettingsService: ServiceSchema<DbSettings & { rest: string }, SettingsMethods> = {
	name: "gamesettings",
	mixins: [TenantDbMixin({ collection: "engagement_game_settings", indexes: [{ fields: ["tenantId", "key"], unique: true }] })],
	settings: { rest: "/gamification/settings", fields: ["currencies", "rules", "levelCurve", "badges", "updatedAt"] },
	actions: {
		getSettings: {
			rest: "GET /",
			roles: ["member"],
			summary: "The tenant's currencies, rules, level curve and badges (the defaults until an admin saves some).",
			params: { $$strict: "remove" },
			handler(ctx: Ctx) {
				return this.current(ctx);
			},
		},
		saveSettings: {
			rest: "PUT /",
			roles: ["admin"],
			params: { ...settingsParams, $$strict: "remove" },
			async handler(ctx: Ctx<GameSettings>) {
				const { currencies, rules, levelCurve, badges } = ctx.params;
				const next = { currencies, rules, levelCurve, badges };
				check(next);
				const row = await this.scopedFindOne(ctx, { key: ROW_KEY });
				if (row) await this._update(ctx, { id: String(row._id), ...next });
				else await this._create(ctx, { key: ROW_KEY, ...next });
				return this.current(ctx);
			},
		},
		forTenant: {
			visibility: "public",
			params: { $$strict: "remove" },
			handler(ctx: Ctx) {
				return this.current(ctx);
			},
		},
	},
	methods: {
		async current(ctx: Ctx<object>) {
			const row = await this.scopedFindOne(ctx, { key: ROW_KEY });
			if (!row) return DEFAULT_SETTINGS;
			const { currencies, rules, levelCurve, badges } = row;
			return { currencies, rules, levelCurve, badges } as GameSettings;
		},
	},
};

export default GameSettingsService;
