/**
 * Notification preferences (`#/notifications/preferences`): for each category, in-app, e-mail and push
 * switches as `GET /api/notifications/preferences` answers them (the API's defaults until you change one),
 * quiet hours (e-mail and push wait until they end; in-app never does) in your time zone (the browser's,
 * from Intl, until you saved one), saved with `PUT`; a refusal is shown under the field it names. Below, push
 * on this device (./push.tsx).
 */
import { useEffect, useId, useState } from "preact/hooks";
import { get, put } from "../../api";
import { Field } from "../../components/field";
import { Loading } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href } from "../../router";
import { categoryLabel } from "./live";
import { PushControl } from "./push";

type Channel = "inApp" | "email" | "push";
type Switches = Record<Channel, boolean>;

interface Preferences {
	categories: Record<string, Switches>;
	quietHours: { start: string; end: string } | null;
	timeZone: string;
}

const CHANNELS: { key: Channel; label: string }[] = [
	{ key: "inApp", label: "In the app" },
	{ key: "email", label: "E-mail" },
	{ key: "push", label: "Push" },
];

/** Switches the API refuses to turn off (README: a reset link must reach you). */
const LOCKED: Record<string, Channel[]> = { security: ["email"] };

const browserZone = () => {
	try {
		return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
	} catch {
		return "UTC";
	}
};

export default function NotificationPreferences(_: ScreenProps) {
	const loaded = useApi(signal => get<Preferences>("/api/notifications/preferences", undefined, { signal }));
	const [categories, setCategories] = useState<Record<string, Switches>>({});
	const [quiet, setQuiet] = useState(false);
	const [start, setStart] = useState("22:00");
	const [end, setEnd] = useState("07:00");
	const [timeZone, setTimeZone] = useState("UTC");
	const [saved, setSaved] = useState(false);
	const [zoneFromBrowser, setZoneFromBrowser] = useState(false);

	function show(p: Preferences) {
		setCategories(p.categories);
		setQuiet(!!p.quietHours);
		if (p.quietHours) {
			setStart(p.quietHours.start);
			setEnd(p.quietHours.end);
		}
		// never saved (the API's default UTC, no quiet hours): offer the browser's own time zone
		const fresh = p.timeZone === "UTC" && !p.quietHours;
		const zone = fresh ? browserZone() : p.timeZone;
		setTimeZone(zone);
		setZoneFromBrowser(fresh && zone !== "UTC");
	}

	useEffect(() => {
		if (loaded.data) show(loaded.data);
	}, [loaded.data]);

	const save = useAction(async () => {
		setSaved(false);
		const body = { categories, quietHours: quiet ? { start, end } : null, timeZone: timeZone.trim() };
		const next = await put<Preferences>("/api/notifications/preferences", body);
		show(next);
		setZoneFromBrowser(false);
		setSaved(true);
	});

	const problem = save.problem;
	const toggle = (category: string, channel: Channel, on: boolean) => {
		setSaved(false);
		setCategories(c => ({ ...c, [category]: { ...c[category], [channel]: on } }));
	};

	if (loaded.loading && !loaded.data) return <Loading label="Loading your preferences…" />;
	if (!loaded.data)
		return (
			<>
				<h1>Notification settings</h1>
				<ProblemBanner problem={loaded.problem} />
			</>
		);

	const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
	const quietError = exactError(problem?.errors, "quietHours");
	return (
		<>
			<h1>Notification settings</h1>
			<p>
				What you are told, and how. <a href={href("/notifications")}>Back to your notifications</a>.
			</p>
			<form
				noValidate
				onSubmit={e => {
					e.preventDefault();
					void save.run();
				}}
			>
				<ProblemBanner problem={problem} fields={["categories", "quietHours", "timeZone"]} />
				{saved ? <Notice kind="success">Your preferences are saved.</Notice> : null}
				<div class="table-wrap">
					<table class="nt-prefs">
						<caption>Where each kind of notification reaches you</caption>
						<thead>
							<tr>
								<th scope="col">Category</th>
								{CHANNELS.map(c => (
									<th scope="col" key={c.key}>
										{c.label}
									</th>
								))}
							</tr>
						</thead>
						<tbody>
							{Object.entries(categories).map(([category, switches]) => {
								const rowError = problem?.fieldError(`categories.${category}`);
								return (
									<tr key={category} data-category={category}>
										<th scope="row">
											{categoryLabel(category)}
											{rowError ? (
												<p class="field-error" id={`nt-err-${category}`} role="alert">
													{rowError}
												</p>
											) : null}
										</th>
										{CHANNELS.map(c => {
											const locked = LOCKED[category]?.includes(c.key) && switches[c.key];
											return (
												<td key={c.key}>
													<label class="check nt-switch">
														<input
															type="checkbox"
															checked={switches[c.key]}
															disabled={locked}
															aria-describedby={rowError ? `nt-err-${category}` : undefined}
															onChange={e => toggle(category, c.key, (e.currentTarget as HTMLInputElement).checked)}
														/>
														<span class="sr-only">
															{categoryLabel(category)}: {c.label.toLowerCase()}
														</span>
														{locked ? <span class="hint">always on</span> : null}
													</label>
												</td>
											);
										})}
									</tr>
								);
							})}
						</tbody>
					</table>
				</div>
				<p class="hint">Security e-mail cannot be turned off: a password reset link must reach you.</p>

				<fieldset class="nt-quiet" aria-describedby={quietError ? "nt-quiet-error" : "nt-quiet-hint"}>
					<legend>Quiet hours</legend>
					<p class="hint" id="nt-quiet-hint">
						During quiet hours e-mail and push wait until they end; notifications in the app are never held. Security messages are never
						held.
					</p>
					<label class="check">
						<input
							type="checkbox"
							checked={quiet}
							onChange={e => {
								setSaved(false);
								setQuiet((e.currentTarget as HTMLInputElement).checked);
							}}
						/>
						Hold e-mail and push during quiet hours
					</label>
					{quiet ? (
						<div class="form-grid">
							<TimeField
								label="From"
								name="quietHours.start"
								value={start}
								onInput={setStart}
								error={problem?.fieldError("quietHours.start")}
							/>
							<TimeField
								label="Until"
								name="quietHours.end"
								value={end}
								onInput={setEnd}
								error={problem?.fieldError("quietHours.end")}
							/>
						</div>
					) : null}
					{quietError ? (
						<p class="field-error" id="nt-quiet-error" role="alert">
							Quiet hours: {quietError}
						</p>
					) : null}
					<Field
						label="Time zone"
						name="timeZone"
						value={timeZone}
						onInput={v => {
							setSaved(false);
							setTimeZone(v);
						}}
						problem={problem}
						maxLength={64}
						hint={
							zoneFromBrowser
								? `${timeZone}, this browser's time zone. An IANA name, e.g. Europe/Paris.`
								: "An IANA name, e.g. Europe/Paris."
						}
					/>
					{zones.length ? <ZoneList zones={zones} /> : null}
				</fieldset>
				<p>
					<button type="submit" disabled={save.busy}>
						{save.busy ? "Saving…" : "Save preferences"}
					</button>
				</p>
			</form>
			<PushControl />
		</>
	);
}

/** The message of the error naming exactly this field (not one of its sub-fields). */
function exactError(errors: { field: string; message: string }[] | undefined, field: string): string | undefined {
	return errors?.find(e => e.field === field)?.message;
}

/** A labelled `<input type="time">` with its error under it (the `Field` look; `Field` has no time type). */
function TimeField(p: { label: string; name: string; value: string; onInput(v: string): void; error?: string }) {
	const id = useId();
	return (
		<div class={`field${p.error ? " field-invalid" : ""}`}>
			<label for={id}>{p.label}</label>
			<input
				id={id}
				name={p.name}
				type="time"
				value={p.value}
				required
				aria-invalid={p.error ? true : undefined}
				aria-describedby={p.error ? `${id}-error` : undefined}
				onInput={e => p.onInput((e.currentTarget as HTMLInputElement).value)}
			/>
			{p.error ? (
				<p class="field-error" id={`${id}-error`} role="alert">
					{p.error}
				</p>
			) : null}
		</div>
	);
}

/** Suggestions for the time zone field (typing filters them in the browser's own list). */
function ZoneList({ zones }: { zones: string[] }) {
	useEffect(() => {
		// tie the list to the time zone input (Field has no `list` prop): an attribute set once, no inline script
		document.querySelector<HTMLInputElement>('input[name="timeZone"]')?.setAttribute("list", "nt-zones");
	}, []);
	return (
		<datalist id="nt-zones">
			{zones.map(z => (
				<option key={z} value={z} />
			))}
		</datalist>
	);
}
