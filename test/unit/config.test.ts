import { ConfigError, dbDriver, loadConfig } from "../../lib/config";

describe("configuration from the environment", () => {
	it("has working defaults for the embedded mode", () => {
		const cfg = loadConfig({});
		expect(cfg.PORT).toBe(3000);
		expect(cfg.TRANSPORTER).toBeUndefined();
		expect(cfg.SERVICES).toBe("*");
		expect(dbDriver(cfg)).toBe("nedb");
		expect(cfg.DEV_LOG_RESET_LINKS).toBe(false);
	});

	it("converts and validates typed values", () => {
		const cfg = loadConfig({ PORT: "8080", RETRIES: "0", METRICS: "false", TRANSPORTER: "nats://127.0.0.1:4222" });
		expect(cfg.PORT).toBe(8080);
		expect(cfg.RETRIES).toBe(0);
		expect(cfg.METRICS).toBe(false);
	});

	it.each([
		[{ PORT: "eighty" }, /^PORT: .*number/],
		[{ PORT: "70000" }, /^PORT: /],
		[{ TRANSPORTER: "redis://x" }, /^TRANSPORTER: .*nats:\/\//],
		[{ LOG_LEVEL: "loud" }, /^LOG_LEVEL: /],
		[{ CACHER: "memcached://x" }, /^CACHER: /],
		[{ DB_DRIVER: "mongo" }, /^DB_DRIVER: .*MONGO_URI/],
		[{ DEV_LOG_RESET_LINKS: "true", NODE_ENV: "production" }, /^DEV_LOG_RESET_LINKS: .*production/],
		[{ DEV_LOG_RESET_LINKS: "sometimes" }, /^DEV_LOG_RESET_LINKS: /],
	])("rejects %j with one line naming the variable", (env, message) => {
		let error: unknown;
		try {
			loadConfig(env as NodeJS.ProcessEnv);
		} catch (err) {
			error = err;
		}
		expect(error).toBeInstanceOf(ConfigError);
		expect((error as Error).message).toMatch(message);
		expect((error as Error).message).not.toContain("\n");
	});

	it("treats empty strings as unset", () => {
		expect(loadConfig({ TRANSPORTER: "", PORT: "" }).PORT).toBe(3000);
	});

	it("uses Mongo when MONGO_URI is set and memory in tests", () => {
		expect(dbDriver(loadConfig({ MONGO_URI: "mongodb://127.0.0.1:27017" }))).toBe("mongo");
		expect(dbDriver(loadConfig({ NODE_ENV: "test" }))).toBe("memory");
	});
});
