/** A lib/errors failure thrown on another node is still its class on the caller's node. */
import { ServiceBroker, type BrokerOptions, type Errors } from "moleculer";
import { PlatformErrorRegenerator } from "../../lib/error-regenerator";
import { ConflictError, NotFoundError, SlugTakenError } from "../../lib/errors";

describe("errors across nodes", () => {
	const opts = (nodeID: string): BrokerOptions => ({
		nodeID,
		logger: false,
		transporter: "Fake",
		errorRegenerator: new PlatformErrorRegenerator(),
	});
	const thrower = new ServiceBroker(opts("thrower"));
	const caller = new ServiceBroker(opts("caller"));
	thrower.createService({
		name: "failing",
		actions: {
			missing: () => Promise.reject(new NotFoundError("No such lead.", "lead-1")),
			taken: () => Promise.reject(new SlugTakenError()),
			plain: () => Promise.reject(new Error("boom")),
		},
	});
	beforeAll(async () => {
		await Promise.all([thrower.start(), caller.start()]);
		await caller.waitForServices("failing");
	});
	afterAll(() => Promise.all([thrower.stop(), caller.stop()]));

	it("rebuilds the class, message, code, type and data", async () => {
		const err = (await caller.call("failing.missing").catch((e: Errors.MoleculerError) => e)) as Errors.MoleculerError;
		expect(err).toBeInstanceOf(NotFoundError);
		expect(err).toMatchObject({ message: "No such lead.", code: 404, type: "NOT_FOUND", data: { id: "lead-1" }, nodeID: "thrower" });
	});

	it("keeps subclasses: a remote SlugTakenError is a ConflictError", async () => {
		const err = (await caller.call("failing.taken").catch((e: Errors.MoleculerError) => e)) as Errors.MoleculerError;
		expect(err).toBeInstanceOf(SlugTakenError);
		expect(err).toBeInstanceOf(ConflictError);
		expect(err.code).toBe(409);
	});

	it("leaves other errors to Moleculer", async () => {
		const err = (await caller.call("failing.plain").catch((e: Errors.MoleculerError) => e)) as Errors.MoleculerError;
		expect(err).not.toBeInstanceOf(ConflictError);
		expect(err.message).toBe("boom");
	});
});
