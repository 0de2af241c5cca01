/** `entity:` loads the row an action works on into ctx.locals before the handler, after validation. */
import { ServiceBroker } from "moleculer";
import type { Ctx } from "../../lib/context";
import { NotFoundError } from "../../lib/errors";
import type { ServiceSchema } from "../../lib/schema";
import { EntityMiddleware, entityOf } from "../../middlewares/entity.middleware";

interface Thing {
	id: string;
	owner: string;
}
interface Methods {
	findThing(ctx: Ctx, id: string): Thing | null;
}

const things: Record<string, Thing> = { a: { id: "a", owner: "ann" } };
const loads: string[] = [];

const ThingsService: ServiceSchema<object, Methods> = {
	name: "things",
	actions: {
		show: {
			entity: "findThing",
			params: { id: { type: "string", max: 8 } },
			handler(ctx: Ctx<{ id: string }>) {
				return { owner: entityOf<Thing>(ctx).owner };
			},
		},
		showBy: {
			entity: { method: "findThing", param: "thingId" },
			params: { thingId: { type: "string", max: 8 } },
			handler(ctx: Ctx<{ thingId: string }>) {
				return entityOf<Thing>(ctx).id;
			},
		},
		plain: { handler: () => "not wrapped" },
	},
	methods: {
		findThing(_ctx, id) {
			loads.push(id);
			return things[id] ?? null;
		},
	},
};

describe("entity middleware", () => {
	const broker = new ServiceBroker({ logger: false, middlewares: [EntityMiddleware] });
	broker.createService(ThingsService);
	beforeAll(() => broker.start());
	afterAll(() => broker.stop());
	beforeEach(() => (loads.length = 0));

	it("hands the loaded entity to the handler", async () => {
		await expect(broker.call("things.show", { id: "a" })).resolves.toEqual({ owner: "ann" });
		await expect(broker.call("things.showBy", { thingId: "a" })).resolves.toBe("a");
		expect(loads).toEqual(["a", "a"]);
	});

	it("answers 404 NOT_FOUND when the loader finds nothing, without running the handler", async () => {
		const err = await broker.call("things.show", { id: "zz" }).catch(e => e);
		expect(err).toBeInstanceOf(NotFoundError);
		expect(err).toMatchObject({ code: 404, type: "NOT_FOUND", data: { id: "zz" } });
	});

	it("loads nothing before the params are valid", async () => {
		await expect(broker.call("things.show", { id: "much-too-long" })).rejects.toMatchObject({ type: "VALIDATION_ERROR" });
		expect(loads).toEqual([]);
	});

	it("leaves actions without the flag alone", async () => {
		await expect(broker.call("things.plain")).resolves.toBe("not wrapped");
		expect(loads).toEqual([]);
	});

	it("refuses at start-up a flag naming a method the service does not have", () => {
		const b = new ServiceBroker({ logger: false, middlewares: [EntityMiddleware] });
		expect(() => b.createService({ name: "broken", actions: { x: { entity: "nope", handler: () => 1 } } })).toThrow(/nope/);
	});
});
