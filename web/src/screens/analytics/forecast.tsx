/**
 * A forecast of one event's series (`GET /api/analytics/insights/forecast`, README "Platform: analytics" →
 * "Insights"): the history from the buckets and the next buckets by a linear trend or Holt's method, in one
 * uPlot chart with its figures in a table, and the method, its parameters and fit in words.
 */
import { useState } from "preact/hooks";
import { get } from "../../api";
import { Field } from "../../components/field";
import { ProblemBanner } from "../../components/problem-banner";
import { useAction } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { AnChart, BUCKET_OPTIONS, bucketLabel, COLORS, SelectField, type Point } from "./common";

interface Forecast {
	method: string;
	inputs: { name: string; bucket: "day" | "hour"; from: string; to: string; points: number };
	parameters: Record<string, number>;
	fit: { rSquared?: number; sse?: number };
	history: Point[];
	forecast: { start: string; value: number }[];
}

const DAY = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const round = (v: number) => String(Math.round(v * 1000) / 1000);

export default function ForecastScreen(_: ScreenProps) {
	const now = Date.now();
	const [name, setName] = useState("");
	const [from, setFrom] = useState(utcDay(now - 30 * DAY));
	const [to, setTo] = useState(utcDay(now + DAY));
	const [bucket, setBucket] = useState<"day" | "hour">("day");
	const [method, setMethod] = useState<"linear" | "holt">("linear");
	const [horizon, setHorizon] = useState("7");
	const [answer, setAnswer] = useState<Forecast | null>(null);
	const run = useAction(async () => {
		setAnswer(null);
		setAnswer(
			await get<Forecast>("/api/analytics/insights/forecast", {
				name: name.trim(),
				from: from ? `${from}T00:00:00.000Z` : undefined,
				to: to ? `${to}T00:00:00.000Z` : undefined,
				bucket,
				method,
				horizon: horizon.trim() || undefined,
			}),
		);
	});
	const a = answer;
	const n = a?.history.length ?? 0;
	return (
		<>
			<h1>Forecast</h1>
			<p>The next days (or hours) of one event, from its history: a straight trend line, or Holt's smoothing of level and trend.</p>
			<section class="panel" aria-labelledby="an-forecast-title">
				<h2 id="an-forecast-title">What to forecast</h2>
				<form
					onSubmit={e => {
						e.preventDefault();
						void run.run();
					}}
				>
					<ProblemBanner problem={run.problem} fields={["name", "from", "to", "horizon", "bucket", "method"]} />
					<div class="form-grid">
						<Field
							label="Event name"
							name="name"
							value={name}
							onInput={setName}
							problem={run.problem}
							required
							placeholder="task.completed"
							maxLength={64}
						/>
						<Field
							type="date"
							problem={null}
							label="History from (UTC day)"
							name="from"
							value={from}
							onInput={setFrom}
							error={run.problem?.fieldError("from")}
							required
						/>
						<Field
							type="date"
							problem={null}
							label="History to (UTC day, not included)"
							name="to"
							value={to}
							onInput={setTo}
							error={run.problem?.fieldError("to")}
							required
						/>
						<SelectField
							label="Bucket"
							name="bucket"
							value={bucket}
							onChange={v => setBucket(v as "day" | "hour")}
							problem={run.problem}
							options={BUCKET_OPTIONS}
						/>
						<SelectField
							label="Method"
							name="method"
							value={method}
							onChange={v => setMethod(v as "linear" | "holt")}
							problem={run.problem}
							options={[
								{ value: "linear", label: "Linear trend" },
								{ value: "holt", label: "Holt's smoothing" },
							]}
						/>
						<Field
							label="Buckets ahead"
							name="horizon"
							type="number"
							value={horizon}
							onInput={setHorizon}
							problem={run.problem}
							hint="1 to 90"
						/>
					</div>
					<button type="submit" disabled={run.busy}>
						Forecast
					</button>
				</form>
			</section>
			{a ? (
				<>
					<AnChart
						id="forecast"
						title={`${a.inputs.name}: ${n} ${a.inputs.bucket}s of history, ${a.forecast.length} forecast`}
						xLabel={a.inputs.bucket === "day" ? "Day (UTC)" : "Hour (UTC)"}
						x={[
							...a.history.map(p => bucketLabel(p.start, a.inputs.bucket)),
							...a.forecast.map(f => bucketLabel(f.start, a.inputs.bucket)),
						]}
						times={[...a.history.map(p => p.start), ...a.forecast.map(f => f.start)]}
						series={[
							{ label: "Events", color: COLORS[0], values: [...a.history.map(p => p.count), ...a.forecast.map(() => null)] },
							{ label: "Forecast", color: COLORS[2], values: [...a.history.map(() => null), ...a.forecast.map(f => f.value)] },
						]}
					/>
					<dl class="fact-list an-facts">
						<dt>Method</dt>
						<dd id="forecast-method">{a.method}</dd>
						<dt>Parameters</dt>
						<dd>
							{Object.entries(a.parameters)
								.map(([k, v]) => `${k} ${round(v)}`)
								.join(", ")}
						</dd>
						<dt>Fit</dt>
						<dd>{a.fit.rSquared !== undefined ? `R² ${round(a.fit.rSquared)}` : `sum of squared errors ${round(a.fit.sse ?? 0)}`}</dd>
					</dl>
				</>
			) : null}
		</>
	);
}
