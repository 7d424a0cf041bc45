/**
 * The console's one way to the backend: the generated service clients over a gRPC-web transport that
 * adds the bearer token to every call and gives every unary call a deadline.
 */
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { IntakeService } from "../gen/globalcredit/intake/v1/intake_service_pb";
import { NotifierService } from "../gen/globalcredit/notifier/v1/notifier_service_pb";
import { ScoringService } from "../gen/globalcredit/scoring/v1/scoring_service_pb";

export interface Clients {
  intake: Client<typeof IntakeService>;
  scoring: Client<typeof ScoringService>;
  notifier: Client<typeof NotifierService>;
}

/** Unary calls give up after this long; the watch stream has no deadline (it passes timeoutMs 0). */
export const DEFAULT_TIMEOUT_MS = 15_000;

export interface AuthHooks {
  /** The current bearer token, or null when signed out. */
  token: () => string | null;
  /** Called when the server refuses the token (expired, or signed with another key). */
  onUnauthenticated?: () => void;
}

/** Adds `authorization: Bearer …`, and reports UNAUTHENTICATED answers so the session can end. */
export function authInterceptor(auth: AuthHooks): Interceptor {
  return (next) => async (req) => {
    const token = auth.token();
    if (token) req.header.set("authorization", `Bearer ${token}`);
    try {
      return await next(req);
    } catch (error) {
      if (ConnectError.from(error).code === Code.Unauthenticated) auth.onUnauthenticated?.();
      throw error;
    }
  };
}

/**
 * Where the gateway is, in this order: the build's VITE_GATEWAY_URL; `gatewayUrl` in `config.json` next
 * to the console (written by whoever serves it, so one build runs anywhere); else the console's own
 * origin (served behind the gateway, or by the dev server's proxy). Another origin must allow the
 * console's by CORS.
 */
export async function resolveGatewayUrl(fetcher: typeof fetch = (...args) => fetch(...args)): Promise<string> {
  const built = import.meta.env.VITE_GATEWAY_URL as string | undefined;
  if (built) return built.replace(/\/+$/, "");
  try {
    const response = await fetcher("./config.json", { cache: "no-store" });
    if (response.ok && (response.headers.get("content-type") ?? "").includes("json")) {
      const config = (await response.json()) as { gatewayUrl?: unknown };
      if (typeof config.gatewayUrl === "string" && config.gatewayUrl) return config.gatewayUrl.replace(/\/+$/, "");
    }
  } catch {
    // no runtime configuration: same origin
  }
  return window.location.origin;
}

export function createGatewayTransport(baseUrl: string, auth: AuthHooks): Transport {
  return createGrpcWebTransport({
    baseUrl,
    useBinaryFormat: true,
    defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
    interceptors: [authInterceptor(auth)],
  });
}

export function createClients(transport: Transport): Clients {
  return {
    intake: createClient(IntakeService, transport),
    scoring: createClient(ScoringService, transport),
    notifier: createClient(NotifierService, transport),
  };
}
