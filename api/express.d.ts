import 'express';
import type { AuthContext } from './auth';

declare global {
  namespace Express {
    interface Request {
      /** Request id echoed in X-Request-Id and every log line of the request. */
      id?: string;
    }
    interface Locals {
      /** The authenticated caller's user id, set by the auth middleware. */
      userId?: string;
      /** The authenticated caller (key, role, plan, scopes), set by the auth middleware. */
      auth?: AuthContext;
    }
  }
}
