/**
 * A real SMTP server in the test process (smtp-server on 127.0.0.1), keeping every message it accepts as
 * mailparser parses it, and able to misbehave: answer 451 (try later) for a while, refuse a recipient
 * for good (550), or be down altogether (connection refused) and come back on the same port.
 */
import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface SmtpSink {
	url: string;
	port: number;
	/** every message accepted, in order */
	mails: ParsedMail[];
	/** connection errors the server saw (resets by clients that died) */
	errors: Error[];
	/** the next `n` messages are answered 451 (a temporary failure) */
	failNext(n: number): void;
	/** messages to this address are refused with 550 */
	refuse(address: string): void;
	/** stop listening (connections are refused) / listen again on the same port */
	down(): Promise<void>;
	up(): Promise<void>;
	close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
	const mails: ParsedMail[] = [];
	let failing = 0;
	const refused = new Set<string>();
	const make = () =>
		new SMTPServer({
			authOptional: true,
			disabledCommands: ["STARTTLS", "AUTH"],
			logger: false,
			size: 1024 * 1024,
			onRcptTo(address, _session, done) {
				if (refused.has(address.address.toLowerCase())) return done(Object.assign(new Error("No such user here"), { responseCode: 550 }));
				done();
			},
			onData(stream, _session, done) {
				const chunks: Buffer[] = [];
				stream.on("data", (c: Buffer) => chunks.push(c));
				stream.on("end", () => {
					if (failing > 0) {
						failing--;
						return done(Object.assign(new Error("Try again later"), { responseCode: 451 }));
					}
					simpleParser(Buffer.concat(chunks))
						.then(mail => {
							mails.push(mail);
							done();
						})
						.catch(done);
				});
			},
		});
	// A client that dies mid-conversation (a SIGKILLed node) resets its connection: the server says so with an
	// 'error' event, which must not be an unhandled one.
	const errors: Error[] = [];
	const withErrors = (srv: SMTPServer) => {
		srv.on("error", err => errors.push(err));
		return srv;
	};
	let server = withErrors(make());
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	const port = (server.server.address() as AddressInfo).port;
	const close = () => new Promise<void>(resolve => server.close(() => resolve()));
	return {
		url: `smtp://127.0.0.1:${port}`,
		port,
		mails,
		errors,
		failNext: n => void (failing = n),
		refuse: address => void refused.add(address.toLowerCase()),
		down: close,
		async up() {
			server = withErrors(make());
			await new Promise<void>(resolve => server.listen(port, "127.0.0.1", resolve));
		},
		close,
	};
}
