/**
 * An in-memory backend behind `createRouterTransport`: the console's real clients, interceptors and
 * error decoding run against it, so tests fake the network and nothing of ours.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate, timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { authInterceptor, type AuthHooks } from "../api/client";
import {
  ApplicationSchema,
  ApplicationStatus,
  AuditEventKind,
  AuditEventSchema,
  PendingApprovalSchema,
  type Application,
  type AuditEvent,
} from "../gen/globalcredit/intake/v1/application_pb";
import {
  IntakeService,
  type CreateApplicationRequest,
  type ListApplicationsRequest,
  type UpdateApplicationStatusRequest,
} from "../gen/globalcredit/intake/v1/intake_service_pb";
import {
  ApplicationEventSchema,
  NotifierService,
  type ApplicationEvent,
  type WatchApplicationsRequest,
} from "../gen/globalcredit/notifier/v1/notifier_service_pb";
import { Country } from "../gen/globalcredit/type/v1/country_pb";
import { BadRequestSchema, ErrorInfoSchema } from "../gen/google/rpc/error_details_pb";

export type ApplicationInit = MessageInitShape<typeof ApplicationSchema>;

/** An error as the services send it: a code, an ErrorInfo and, optionally, field violations. */
export function rpcError(
  code: Code,
  reason: string,
  options: { message?: string; metadata?: Record<string, string>; violations?: { field: string; reason: string; description?: string }[] } = {},
): ConnectError {
  const details = [
    { desc: ErrorInfoSchema, value: { reason, domain: "intake.globalcredit.com", metadata: options.metadata ?? {} } },
  ];
  const violations = options.violations
    ? [
        {
          desc: BadRequestSchema,
          value: {
            fieldViolations: options.violations.map((v) => ({ field: v.field, reason: v.reason, description: v.description ?? v.reason })),
          },
        },
      ]
    : [];
  return new ConnectError(options.message ?? reason.toLowerCase(), code, undefined, [...details, ...violations]);
}

let sequence = 0;

/** A plausible application; override what the test is about. */
export function makeApplication(init: ApplicationInit = {}): Application {
  sequence += 1;
  const id = `0190a0b0-0000-7000-8000-${String(sequence).padStart(12, "0")}`;
  const created = new Date(Date.UTC(2026, 0, 15, 9, 0, sequence));
  const defaults: ApplicationInit = {
    name: `applications/${id}`,
    country: Country.ES,
    applicant: { fullName: "Ana García López", identityDocument: "*****678Z" },
    requestedAmount: { currencyCode: "EUR", amount: "12000.00" },
    monthlyIncome: { currencyCode: "EUR", amount: "3200.00" },
    termMonths: 36,
    status: ApplicationStatus.PENDING,
    etag: `etag-${sequence}`,
    createTime: timestampFromDate(created),
    updateTime: timestampFromDate(created),
  };
  return create(ApplicationSchema, { ...defaults, ...init } as ApplicationInit);
}

/** A queue of values an async generator waits on: the watch stream's events, or its end. */
class Channel<T> {
  private items: (T | { end: ConnectError | null })[] = [];
  private wake: (() => void) | null = null;

  push(item: T | { end: ConnectError | null }) {
    this.items.push(item);
    this.wake?.();
  }

  async *drain(signal: AbortSignal): AsyncGenerator<T> {
    while (!signal.aborted) {
      const item = this.items.shift();
      if (item === undefined) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
        this.wake = null;
        continue;
      }
      if (typeof item === "object" && item !== null && "end" in item) {
        if (item.end) throw item.end;
        return;
      }
      yield item as T;
    }
  }
}

export class FakeBackend {
  /** Newest first, as ListApplications answers. */
  applications: Application[] = [];
  events = new Map<string, AuditEvent[]>();
  createRequests: CreateApplicationRequest[] = [];
  listRequests: ListApplicationsRequest[] = [];
  updateRequests: UpdateApplicationStatusRequest[] = [];
  watchRequests: WatchApplicationsRequest[] = [];
  getCount = 0;
  authorizations: (string | null)[] = [];
  /** Answer CreateApplication with this instead of creating (once each, in order). */
  createFailures: ConnectError[] = [];
  /** Approvals wait for a second analyst (as intake does above the country's threshold). */
  fourEyes = false;
  /** Answer ListApplications with this instead (once each, in order). */
  listFailures: ConnectError[] = [];
  /** Refuse every watch with this. */
  watchFailure: ConnectError | null = null;
  /** Answer UpdateApplicationStatus / CancelApplication with this (once each). */
  actionFailures: ConnectError[] = [];
  private watchers = new Set<Channel<ApplicationEvent>>();
  private eventSequence = 0;

  add(...applications: Application[]): this {
    this.applications.unshift(...applications.slice().reverse());
    return this;
  }

  find(name: string): Application | undefined {
    return this.applications.find((application) => application.name === name);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Changes an application's status and tells every watcher, like intake + notifier do. */
  changeStatus(name: string, status: ApplicationStatus, riskScore = ""): ApplicationEvent {
    const application = this.find(name);
    if (!application) throw new Error(`no ${name}`);
    const event = this.emit({ name, country: application.country, oldStatus: application.status, newStatus: status, riskScore });
    application.status = status;
    application.etag = `${application.etag}+`;
    application.updateTime = timestampNow();
    return event;
  }

  emit(init: MessageInitShape<typeof ApplicationEventSchema>): ApplicationEvent {
    this.eventSequence += 1;
    const event = create(ApplicationEventSchema, {
      eventId: `event-${this.eventSequence}`,
      resumeToken: `token-${this.eventSequence}`,
      occurTime: timestampNow(),
      ...init,
    });
    this.watchers.forEach((watcher) => watcher.push(event));
    return event;
  }

  /** Ends every open watch, with an error (a network drop) or cleanly (the server draining). */
  dropWatches(error: ConnectError | null = new ConnectError("connection lost", Code.Unavailable)) {
    this.watchers.forEach((watcher) => watcher.push({ end: error }));
    this.watchers.clear();
  }

  routes = (router: ConnectRouter) => {
    router.service(IntakeService, {
      createApplication: async (request, context) => {
        this.authorizations.push(context.requestHeader.get("authorization"));
        this.createRequests.push(request);
        const failure = this.createFailures.shift();
        if (failure) throw failure;
        const existing = this.applications.find((application) => application.etag === `request:${request.requestId}`);
        if (existing) return { application: existing };
        const sent = request.application;
        const application = makeApplication({ status: ApplicationStatus.PENDING });
        if (sent) {
          const { country, applicant, requestedAmount, monthlyIncome, termMonths, consent, countryDetails } = sent;
          Object.assign(application, { country, applicant, requestedAmount, monthlyIncome, termMonths, consent, countryDetails });
        }
        application.etag = `request:${request.requestId}`;
        this.add(application);
        return { application };
      },
      getApplication: async (request) => {
        this.getCount += 1;
        const application = this.find(request.name);
        if (!application) throw rpcError(Code.NotFound, "APPLICATION_NOT_FOUND");
        return { application };
      },
      listApplications: async (request, context) => {
        this.authorizations.push(context.requestHeader.get("authorization"));
        this.listRequests.push(request);
        const failure = this.listFailures.shift();
        if (failure) throw failure;
        const matching = this.applications.filter(
          (application) =>
            (!request.country || application.country === request.country) &&
            (!request.status || application.status === request.status),
        );
        const start = request.pageToken ? Number(request.pageToken.replace("after:", "")) : 0;
        const size = request.pageSize || 50;
        const page = matching.slice(start, start + size);
        const next = start + size < matching.length ? `after:${start + size}` : "";
        return { applications: page, nextPageToken: next };
      },
      listApplicationEvents: async (request) => ({ events: this.events.get(request.name) ?? [], nextPageToken: "" }),
      updateApplicationStatus: async (request) => {
        this.updateRequests.push(request);
        const failure = this.actionFailures.shift();
        if (failure) throw failure;
        const application = this.find(request.name);
        if (!application) throw rpcError(Code.NotFound, "APPLICATION_NOT_FOUND");
        if (application.etag !== request.etag) throw rpcError(Code.Aborted, "ETAG_MISMATCH");
        if (this.fourEyes && request.status === ApplicationStatus.APPROVED && !application.pendingApproval) {
          application.pendingApproval = create(PendingApprovalSchema, {
            requestedBy: "dev-analyst",
            reason: request.reason,
            requestTime: timestampNow(),
          });
          application.etag = `${application.etag}+`;
          return { application };
        }
        this.audit(request.name, application.status, request.status, request.reason);
        this.changeStatus(request.name, request.status);
        return { application };
      },
      cancelApplication: async (request) => {
        const failure = this.actionFailures.shift();
        if (failure) throw failure;
        const application = this.find(request.name);
        if (!application) throw rpcError(Code.NotFound, "APPLICATION_NOT_FOUND");
        if (application.etag !== request.etag) throw rpcError(Code.Aborted, "ETAG_MISMATCH");
        this.audit(request.name, application.status, ApplicationStatus.CANCELLED, request.reason);
        this.changeStatus(request.name, ApplicationStatus.CANCELLED);
        return { application };
      },
    });
    router.service(NotifierService, {
      watchApplications: (request, context) => {
        this.watchRequests.push(request);
        if (this.watchFailure) throw this.watchFailure;
        const channel = new Channel<ApplicationEvent>();
        this.watchers.add(channel);
        context.signal.addEventListener("abort", () => this.watchers.delete(channel));
        context.responseHeader.set("x-request-id", `watch-${this.watchRequests.length}`);
        const drained = channel.drain(context.signal);
        return (async function* () {
          // The real notifier sends its headers as soon as the watch is registered; the in-memory
          // transport sends them with the first message only, so open with a message that carries no
          // event (which the console must tolerate anyway).
          yield {};
          for await (const event of drained) yield { event };
        })();
      },
    });
  };

  private audit(name: string, from: ApplicationStatus, to: ApplicationStatus, reason: string) {
    const trail = this.events.get(name) ?? [];
    trail.push(
      create(AuditEventSchema, {
        sequence: BigInt(trail.length + 1),
        kind: AuditEventKind.STATUS_CHANGED,
        occurTime: timestampNow(),
        actor: "dev-analyst",
        fromStatus: from,
        toStatus: to,
        reason,
      }),
    );
    this.events.set(name, trail);
  }

  /** The console's transport factory, over this backend, with the console's own auth interceptor. */
  transport = (auth: AuthHooks) =>
    createRouterTransport(this.routes, { transport: { interceptors: [authInterceptor(auth)] } });
}
