/**
 * How a service declares the platform schedules of the job types it owns (README, "Jobs, schedules and
 * analytics" → "Platform jobs"):
 *
 *   mixins: [JobHandlersMixin({ "identity.purge": { ... } }), PlatformSchedulesMixin([{ id: "identity-purge", ... }])],
 *
 * Each is registered with `scheduler.ensure` (create or update under its stable id; a paused one stays
 * paused) once `scheduler` and `jobs` are reachable: at start, or when they appear later on another node
 * (`$services.changed`), without holding up the start. Every node owning the type ensures it; the
 * scheduler fires each due time once however many do.
 */
import { defineMixin, type Mixin } from "../../../lib/schema";

export interface PlatformSchedule {
	/** the schedule's stable id (a word: `identity-purge`) */
	id: string;
	name: string;
	cron: string;
	jobType: string;
}

interface Vars {
	platformSchedulesEnsured: boolean;
	platformSchedulesEnsuring?: Promise<void>;
}

interface Methods {
	ensurePlatformSchedules(): Promise<void>;
}

export function PlatformSchedulesMixin(schedules: PlatformSchedule[]): Mixin {
	return defineMixin<object, Methods, Vars>({
		events: {
			"$services.changed"() {
				void this.ensurePlatformSchedules();
			},
		},
		methods: {
			ensurePlatformSchedules() {
				const available = new Set(this.broker.registry.getServiceList({ onlyAvailable: true }).map(s => s.name));
				if (this.platformSchedulesEnsured || !available.has("scheduler") || !available.has("jobs")) return Promise.resolve();
				this.platformSchedulesEnsuring ??= (async () => {
					try {
						for (const s of schedules) await this.broker.call("scheduler.ensure", { ...s, timezone: "UTC", misfire: "runOnce" });
						this.platformSchedulesEnsured = true;
					} catch (err) {
						this.logger.warn("platform schedules not registered yet; trying again when services change", {
							error: (err as Error).message,
						});
					} finally {
						this.platformSchedulesEnsuring = undefined;
					}
				})();
				return this.platformSchedulesEnsuring;
			},
		},
		created() {
			this.platformSchedulesEnsured = false;
		},
		started() {
			void this.ensurePlatformSchedules();
		},
	});
}
