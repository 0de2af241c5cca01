/**
 * `npm run seed`: fills the platform with the demo tenant and its data, through the public HTTP API
 * (README, "Demo data"). Deterministic (scripts/seed/data.ts), idempotent (every record is looked up by a
 * natural key before it is created), and only ever talking to this machine.
 *
 *   npm run seed                                   the embedded platform on DATA_DIR, or the one running on PORT
 *   SEED_URL=http://127.0.0.1:3000 npm run seed    a running gateway
 */
import { Api, SeedError } from "./seed/client";
import type { SeedContext } from "./seed/context";
import { commerceUnits, seedCommerce } from "./seed/commerce";
import { crmUnits, seedCrm } from "./seed/crm";
import { DEMO_PASSWORD, OWNER, SEED, TENANT } from "./seed/data";
import { engagementUnits, seedEngagement } from "./seed/engagement";
import { identityUnits, seedIdentity } from "./seed/identity";
import { messagingUnits, seedMessaging } from "./seed/messaging";
import { resolveTarget, type Target } from "./seed/platform";
import { Progress, Tally, type Out } from "./seed/progress";
import { seedSocial, socialUnits } from "./seed/social";

export interface SeedResult {
	created: number;
	existing: number;
	tally: Tally;
	seconds: number;
	requests: number;
}

export async function runSeed(env: NodeJS.ProcessEnv = process.env, out: Out = process.stdout): Promise<SeedResult> {
	const started = Date.now();
	out.write(`Valence demo data (seed "${SEED}")\n`);
	// Ctrl-C (or SIGTERM) stops the platform the seed booted cleanly, its files written and the lock
	// released, also while it is still starting; a rerun carries on where this one stopped
	let target: Target | undefined;
	let stopping = false;
	const interrupt = (signal: NodeJS.Signals) => {
		if (stopping) process.exit(130);
		stopping = true;
		out.write(`\n${signal}: stopping; run the seed again to finish.\n`);
		if (target) void target.stop().finally(() => process.exit(130));
	};
	process.on("SIGINT", interrupt);
	process.on("SIGTERM", interrupt);
	try {
		target = await resolveTarget(env);
	} catch (err) {
		process.off("SIGINT", interrupt);
		process.off("SIGTERM", interrupt);
		throw err;
	}
	if (stopping) {
		await target.stop();
		process.exit(130);
	}
	out.write(`Seeding ${target.how}\n`);
	const api = new Api(target.base);
	const tally = new Tally();
	const progress = new Progress(out, identityUnits() + socialUnits() + crmUnits() + messagingUnits() + engagementUnits() + commerceUnits());
	const ctx: SeedContext = { api, progress, tally, users: new Map(), tenantId: "", leads: new Map() };
	try {
		await seedIdentity(ctx);
		await seedSocial(ctx);
		await seedCrm(ctx);
		await seedMessaging(ctx);
		await seedEngagement(ctx);
		await seedCommerce(ctx);
	} finally {
		progress.finish();
		process.off("SIGINT", interrupt);
		process.off("SIGTERM", interrupt);
		await target.stop();
	}
	const seconds = (Date.now() - started) / 1000;
	if (tally.createdTotal) out.write(`Created ${tally.createdTotal} records: ${Tally.list(tally.created)}.\n`);
	else out.write(`Nothing new: the demo data was already there (${tally.existingTotal} records found, none created).\n`);
	if (tally.createdTotal && tally.existingTotal) out.write(`Already there: ${Tally.list(tally.existing)}.\n`);
	out.write(
		[
			"",
			`Demo login (demo data, not for production): ${OWNER.email} / ${DEMO_PASSWORD}  (tenant "${TENANT.name}", owner)`,
			`Every demo account has that password: see README, "Demo data".`,
			`Done in ${seconds.toFixed(1)} s (${api.requests} requests).`,
			"",
		].join("\n"),
	);
	return { created: tally.createdTotal, existing: tally.existingTotal, tally, seconds, requests: api.requests };
}

if (require.main === module) {
	runSeed().then(
		() => process.exit(0),
		err => {
			process.stdout.write("\n");
			process.stderr.write(`seed: ${err instanceof SeedError ? err.message : (err?.stack ?? err)}\n`);
			process.exit(1);
		},
	);
}
