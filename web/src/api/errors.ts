/**
 * Typed decoding of the backend's errors: the gRPC code, and from `grpc-status-details-bin` the
 * `google.rpc.ErrorInfo` (stable reason, metadata) and `google.rpc.BadRequest` field violations.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "../gen/google/rpc/error_details_pb";

export interface FieldViolation {
  /** The request's field path, e.g. `application.applicant.identity_document`. */
  field: string;
  /** Stable reason, e.g. `IDENTITY_DOCUMENT_CHECKSUM_INVALID`; empty when the server gave none. */
  reason: string;
  /** The server's English description; shown only when the console has no words of its own. */
  description: string;
}

export interface ApiError {
  code: Code;
  /** `ErrorInfo.reason`, e.g. `ETAG_MISMATCH`; null when the answer carried no ErrorInfo. */
  reason: string | null;
  metadata: Record<string, string>;
  violations: FieldViolation[];
  /** The raw status message (English, never PII). */
  message: string;
}

export function decodeError(error: unknown): ApiError {
  const connectError = ConnectError.from(error);
  const info = connectError.findDetails(ErrorInfoSchema)[0];
  const violations = connectError
    .findDetails(BadRequestSchema)
    .flatMap((badRequest) => badRequest.fieldViolations)
    .map((violation) => ({
      field: violation.field,
      reason: violation.reason,
      description: violation.description,
    }));
  return {
    code: connectError.code,
    reason: info?.reason || null,
    metadata: info ? { ...info.metadata } : {},
    violations,
    message: connectError.rawMessage,
  };
}

/** True for a call the user (or React) cancelled: nothing to show. */
export function isCancelled(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Canceled;
}
