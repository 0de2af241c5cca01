/**
 * A dashboard's name and widgets, edited as a form (admins: `POST /api/analytics/dashboards`, or
 * `PATCH /:id`). Widgets are added, removed and moved up or down with buttons; every field the API refuses
 * (`widgets[1].query.by`: "a table needs a dimension (by)") is explained next to it.
 */
import { useState } from "preact/hooks";
import type { ApiProblem } from "../../api";
import { Field } from "../../components/field";
import { ProblemBanner } from "../../components/problem-banner";
import { BUCKET_OPTIONS, SelectField, WIDGET_TYPES, type Widget, type WidgetType } from "./common";

interface Draft {
	key: number;
	type: WidgetType;
	title: string;
	name: string;
	steps: string;
	by: string;
	sum: string;
	bucket: "day" | "hour";
	rangeDays: string;
}

let nextKey = 1;
const draftOf = (w?: Widget): Draft => ({
	key: nextKey++,
	type: w?.type ?? "series",
	title: w?.title ?? "",
	name: w?.query.name ?? "",
	steps: (w?.query.steps ?? []).join(", "),
	by: w?.query.by ?? "",
	sum: w?.query.sum ?? "",
	bucket: w?.query.bucket ?? "day",
	rangeDays: String(w?.query.rangeDays ?? 30),
});

/** The body the API takes: empty fields left out, steps split at commas. */
function widgetOf(d: Draft): Widget {
	const t = (s: string) => s.trim() || undefined;
	const steps = d.steps
		.split(",")
		.map(s => s.trim())
		.filter(Boolean);
	const query: Record<string, unknown> = { bucket: d.bucket };
	if (d.type === "funnel") query.steps = steps;
	else query.name = t(d.name);
	if (d.type !== "funnel" && d.type !== "counter") query.by = t(d.by);
	query.sum = t(d.sum);
	if (d.rangeDays.trim()) query.rangeDays = Number(d.rangeDays);
	return { type: d.type, ...(t(d.title) && { title: t(d.title) }), query: query as unknown as Widget["query"] };
}

export function DashboardEditor(p: {
	initial?: { name: string; widgets: Widget[] };
	submitLabel: string;
	busy: boolean;
	problem: ApiProblem | null;
	onSubmit(body: { name: string; widgets: Widget[] }): void;
	onCancel?(): void;
}) {
	const [name, setName] = useState(p.initial?.name ?? "");
	const [drafts, setDrafts] = useState<Draft[]>(() => (p.initial?.widgets.length ? p.initial.widgets.map(draftOf) : [draftOf()]));
	const change = (key: number, patch: Partial<Draft>) => setDrafts(ds => ds.map(d => (d.key === key ? { ...d, ...patch } : d)));
	const move = (i: number, by: -1 | 1) =>
		setDrafts(ds => {
			const next = [...ds];
			[next[i], next[i + by]] = [next[i + by], next[i]];
			return next;
		});
	// every widget's errors are shown beside its fields (`widgets[1].query.by`): the banner only points at them
	const shown = ["name", "widgets", ...drafts.map((_, i) => `widgets[${i}]`)];
	return (
		<form
			class="an-editor"
			onSubmit={e => {
				e.preventDefault();
				p.onSubmit({ name: name.trim(), widgets: drafts.map(widgetOf) });
			}}
		>
			<ProblemBanner problem={p.problem} fields={shown} />
			<Field label="Dashboard name" name="name" value={name} onInput={setName} problem={p.problem} required maxLength={200} />
			{drafts.map((d, i) => {
				const at = `widgets[${i}]`;
				const n = i + 1;
				return (
					<fieldset class="an-widget" key={d.key}>
						<legend>Widget {n}</legend>
						<div class="form-grid">
							<SelectField
								label={`Widget ${n} type`}
								name={`${at}.type`}
								value={d.type}
								options={WIDGET_TYPES}
								onChange={type => change(d.key, { type })}
								problem={p.problem}
							/>
							<Field
								label={`Widget ${n} title`}
								name={`${at}.title`}
								value={d.title}
								onInput={title => change(d.key, { title })}
								problem={p.problem}
								maxLength={200}
							/>
							{d.type === "funnel" ? (
								<Field
									label={`Widget ${n} steps`}
									name={`${at}.query.steps`}
									value={d.steps}
									onInput={steps => change(d.key, { steps })}
									problem={p.problem}
									hint="Event names in order, separated by commas"
								/>
							) : (
								<Field
									label={`Widget ${n} event name`}
									name={`${at}.query.name`}
									value={d.name}
									onInput={name => change(d.key, { name })}
									problem={p.problem}
									placeholder="task.completed"
									maxLength={64}
								/>
							)}
							{d.type === "series" || d.type === "table" ? (
								<Field
									label={`Widget ${n} dimension (by)`}
									name={`${at}.query.by`}
									value={d.by}
									onInput={by => change(d.key, { by })}
									problem={p.problem}
									hint={d.type === "table" ? "A property of the events, e.g. plan" : "Optional: one line per value"}
									maxLength={64}
								/>
							) : null}
							<Field
								label={`Widget ${n} sum of property`}
								name={`${at}.query.sum`}
								value={d.sum}
								onInput={sum => change(d.key, { sum })}
								problem={p.problem}
								hint="Optional: a numeric property"
								maxLength={64}
							/>
							<SelectField
								label={`Widget ${n} bucket`}
								name={`${at}.query.bucket`}
								value={d.bucket}
								options={BUCKET_OPTIONS}
								onChange={bucket => change(d.key, { bucket })}
								problem={p.problem}
							/>
							<Field
								label={`Widget ${n} range in days`}
								name={`${at}.query.rangeDays`}
								type="number"
								value={d.rangeDays}
								onInput={rangeDays => change(d.key, { rangeDays })}
								problem={p.problem}
							/>
						</div>
						<div class="toolbar">
							<button type="button" class="secondary" disabled={i === 0} onClick={() => move(i, -1)}>
								Move widget {n} up
							</button>
							<button type="button" class="secondary" disabled={i === drafts.length - 1} onClick={() => move(i, 1)}>
								Move widget {n} down
							</button>
							<button
								type="button"
								class="secondary"
								disabled={drafts.length === 1}
								onClick={() => setDrafts(ds => ds.filter(x => x.key !== d.key))}
							>
								Remove widget {n}
							</button>
						</div>
					</fieldset>
				);
			})}
			<div class="toolbar">
				<button type="button" class="secondary" disabled={drafts.length >= 24} onClick={() => setDrafts(ds => [...ds, draftOf()])}>
					Add a widget
				</button>
				<button type="submit" disabled={p.busy}>
					{p.submitLabel}
				</button>
				{p.onCancel ? (
					<button type="button" class="secondary" onClick={p.onCancel}>
						Cancel
					</button>
				) : null}
			</div>
		</form>
	);
}
