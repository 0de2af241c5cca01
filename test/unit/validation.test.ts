/** The broker's validator rules (lib/validation.ts) and the Params middleware that enforces bounded strings. */
import FastestValidator from "fastest-validator";
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { harden, unboundedStrings } from "../../lib/validation";

const v = harden(new FastestValidator({ useNewCustomCheckerFunction: true }));
const errorsOf = (schema: Record<string, unknown>, value: Record<string, unknown>) => {
	const res = v.compile(schema)(value);
	return res === true ? [] : (res as { type: string; field: string }[]).map(e => `${e.field}:${e.type}`);
};
const timed = <T>(fn: () => T) => {
	const started = performance.now();
	const result = fn();
	return { result, ms: performance.now() - started };
};

describe("length before pattern", () => {
	it("rejects a megabyte of '@' in an e-mail field at once, by its length", () => {
		const { result, ms } = timed(() => errorsOf({ email: { type: "email", max: 254 } }, { email: "@".repeat(1_000_000) }));
		expect(result).toEqual(["email:emailMax"]);
		expect(ms).toBeLessThan(50);
	});

	it("never runs a pattern on a value over its max", () => {
		// Exponential on 40 characters of 'a' and a '!' if it ever ran.
		const schema = { s: { type: "string", max: 10, pattern: /^(a+)+$/ } };
		const { result, ms } = timed(() => errorsOf(schema, { s: `${"a".repeat(40)}!` }));
		expect(result).toEqual(["s:stringMax"]);
		expect(ms).toBeLessThan(50);
		expect(errorsOf(schema, { s: "aaa" })).toEqual([]);
	});

	it("measures after the rule's own trimming, as the max check always did", () => {
		expect(errorsOf({ s: { type: "string", max: 3, trim: true } }, { s: `${" ".repeat(1000)}abc${" ".repeat(1000)}` })).toEqual([]);
		expect(errorsOf({ s: { type: "string", max: 3 } }, { s: " abc " })).toEqual(["s:stringMax"]);
		expect(errorsOf({ e: { type: "email", max: 20, normalize: true } }, { e: `  a@example.com${" ".repeat(50)}` })).toEqual([]);
	});

	it("enforces max on url and uuid rules too (fastest-validator's url rule ignores it)", () => {
		expect(errorsOf({ u: { type: "url", max: 30 } }, { u: `https://example.com/${"a".repeat(100)}` })).toEqual(["u:stringMax"]);
		expect(errorsOf({ u: { type: "url", max: 30 } }, { u: "https://example.com/" })).toEqual([]);
		expect(errorsOf({ id: { type: "uuid", max: 36 } }, { id: "0".repeat(100_000) })).toEqual(["id:stringMax"]);
	});

	it("checks strings in nested objects, array items and record keys first too", () => {
		const schema = {
			o: { type: "object", props: { e: { type: "email", max: 254 } } },
			list: { type: "array", items: { type: "email", max: 254 } },
			rec: { type: "record", key: { type: "string", max: 40, pattern: /^[a-z]+$/ }, value: "number" },
		};
		const big = "@".repeat(500_000);
		const { result, ms } = timed(() => errorsOf(schema, { o: { e: big }, list: [big], rec: { [big]: 1 } }));
		expect(result.sort()).toEqual(["list[0]:emailMax", "o.e:emailMax", `rec.${big}:stringMax`].sort());
		expect(ms).toBeLessThan(100);
	});
});

describe("null only where a rule allows it", () => {
	const schema = {
		text: { type: "string", max: 10, optional: true },
		ids: { type: "array", items: { type: "string", max: 10 }, optional: true },
		bio: { type: "string", max: 10, optional: true, nullable: true },
		size: { type: "number", optional: true, default: 5 },
		any: { type: "any", optional: true },
	};
	const check = v.compile(schema);

	it("refuses null in an optional field that is not nullable (422, not a crash in the handler)", () => {
		expect(errorsOf(schema, { text: null })).toEqual(["text:nullNotAllowed"]);
		expect(errorsOf(schema, { ids: null })).toEqual(["ids:nullNotAllowed"]);
	});

	it("still lets optional fields be absent, nullable ones be null, defaults replace null", () => {
		expect(errorsOf(schema, {})).toEqual([]);
		const value: Record<string, unknown> = { bio: null, size: null, any: null };
		expect(check(value)).toBe(true);
		expect(value).toEqual({ bio: null, size: 5, any: null });
	});
});

describe("every string param has a max", () => {
	it("finds strings without max, however they are nested or written", () => {
		expect(
			unboundedStrings({
				ok: "string|max:10",
				short: "string",
				email: { type: "email" },
				url: "url|optional",
				tags: { type: "array", items: "string" },
				nested: {
					type: "object",
					props: { deep: { type: "object", props: { name: { type: "string" }, fine: { type: "string", max: 3 } } } },
				},
				either: [{ type: "string" }, { type: "number" }],
				rec: { type: "record", key: { type: "string", pattern: /^[a-z]+$/ }, value: { type: "string", max: 5 } },
				plainRecord: { type: "record", value: "number" },
				$$strict: "remove",
			}).sort(),
		).toEqual(
			[
				"short (string)",
				"email (email)",
				"url (url)",
				"tags[] (string)",
				"nested.deep.name (string)",
				"either (string)",
				"rec{key} (string)",
				"plainRecord{key} (string)",
			].sort(),
		);
		expect(unboundedStrings({ id: "string|max:64", n: "number", list: { type: "array", items: { type: "uuid", max: 36 } } })).toEqual([]);
	});

	it("refuses to create a service with an action whose params have an unbounded string", async () => {
		const broker = new ServiceBroker({ ...brokerOptions(), logger: false, metrics: false, cacher: null });
		try {
			expect(() =>
				broker.createService({
					name: "loose",
					actions: { say: { params: { who: { type: "object", props: { email: "email" } } }, handler: () => "hi" } },
				}),
			).toThrow(/action 'loose\.say'.*who\.email \(email\)/);
			const ok = broker.createService({
				name: "bounded",
				actions: {
					say: { auth: "public", params: { who: "string|max:64" }, handler: (ctx: { params: { who: string } }) => `hi ${ctx.params.who}` },
				},
			});
			expect(ok.name).toBe("bounded");
			await broker.start();
			expect(await broker.call("bounded.say", { who: "you" })).toBe("hi you");
			await expect(broker.call("bounded.say", { who: "x".repeat(65) })).rejects.toMatchObject({ code: 422 });
		} finally {
			await broker.stop();
		}
	});

	it("refuses to start a service with an event whose params have an unbounded string", async () => {
		const broker = new ServiceBroker({ ...brokerOptions(), logger: false, metrics: false, cacher: null });
		try {
			// Event handlers are wrapped when the service starts.
			let error: unknown;
			try {
				broker.createService({ name: "loose2", events: { "x.happened": { params: { note: "string" }, handler: () => undefined } } });
				await broker.start();
			} catch (err) {
				error = err;
			}
			expect(String(error)).toMatch(/event 'x\.happened'.*note \(string\)/);
		} finally {
			await broker.stop();
		}
	});
});
