// http_ece (RFC 8188 encrypted content-encoding) ships no types; the tests' fake push service uses decrypt.
declare module "http_ece" {
	import type { ECDH } from "node:crypto";
	export interface EceParams {
		version?: "aes128gcm" | "aesgcm";
		privateKey?: ECDH;
		/** base64url */
		authSecret?: string;
		dh?: string;
		key?: string;
		salt?: string;
		rs?: number;
	}
	export function decrypt(buffer: Buffer, params: EceParams): Buffer;
	export function encrypt(buffer: Buffer, params: EceParams): Buffer;
}
