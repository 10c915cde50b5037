import { ConfigError, sandboxUrlFor, type Config } from '../../lib/config';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import type { GoogleService } from '../../schemas/connections';
import type { OAuthConnectPlatform } from '../../schemas/posts';
import type { ProviderCall } from '../call';
import { GOOGLE_TOKEN_URL } from '../google/auth';
import type { YoutubeAdapter } from '../youtube/adapter';
import { SocialApiError, SocialHttp } from './http';
import { parseSocialClients, PRODUCTION_SOCIAL_ENDPOINTS, sandboxSocialEndpoints, type SocialClientCredentials } from './index';

/** The account an authorization code was exchanged for: its identity and its tokens (seal before storing). */
export interface ConnectedAccount {
  platformUserId: string;
  username: string | null;
  accessToken: string;
  refreshToken: string | null;
  expiresAt: Date | null;
}

/** Tokens of a Google consent and the scopes it granted (seal before storing). */
export interface GoogleGrant {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: Date | null;
  scopes: string[];
}

/** The OAuth 2.0 authorization-code flow of the platforms that can be connected without pasting tokens. */
export interface SocialOAuth {
  /** Where to send the user's browser: the platform's consent screen, which redirects to `redirectUri` with `code` and `state`. */
  authorizationUrl(platform: OAuthConnectPlatform, request: { redirectUri: string; state: string }): string;
  /** The code from that redirect → tokens, and the account they act for. */
  exchangeCode(platform: OAuthConnectPlatform, request: { code: string; redirectUri: string }): Promise<ConnectedAccount>;
  /** Google's consent screen for these services (YouTube captions and uploads list, Drive files). */
  googleAuthorizationUrl(request: { redirectUri: string; state: string; services: GoogleService[] }): string;
  /** Google's code → tokens, whatever services they were granted for. */
  exchangeGoogleCode(request: { code: string; redirectUri: string }): Promise<GoogleGrant>;
}

interface OAuthApp extends SocialClientCredentials {
  authorizeUrl: string;
  tokenUrl: string;
}

export interface SocialOAuthApps {
  google: OAuthApp;
  tiktok: OAuthApp;
}

export interface SocialOAuthOptions {
  /** Read when a platform is used (socialOAuthApps resolves each on first access). */
  apps: SocialOAuthApps;
  /** Reads the channel a new Google token acts for (channels.list mine=true). */
  youtube: () => YoutubeAdapter;
  call: ProviderCall;
}

const GOOGLE_SCOPES = ['https://www.googleapis.com/auth/youtube.upload', 'https://www.googleapis.com/auth/youtube.readonly'];
/** What each connectable Google service needs: captions download is youtube.force-ssl; Drive only the files we create. */
export const GOOGLE_SERVICE_SCOPES: Record<GoogleService, string[]> = {
  youtube: ['https://www.googleapis.com/auth/youtube.readonly', 'https://www.googleapis.com/auth/youtube.force-ssl'],
  drive: ['https://www.googleapis.com/auth/drive.file'],
};
const TIKTOK_SCOPES = ['user.info.basic', 'video.publish', 'video.list'];

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
  open_id?: string;
  error?: string;
}

const expiry = (seconds: number | undefined) => (seconds ? new Date(Date.now() + seconds * 1000) : null);

export function createSocialOAuth(options: SocialOAuthOptions): SocialOAuth {
  async function token(
    platform: OAuthConnectPlatform,
    url: string,
    form: Record<string, string>,
  ): Promise<TokenAnswer & { access_token: string }> {
    const { body } = await new SocialHttp(platform, options.call).request<TokenAnswer>(url, { method: 'POST', form });
    // TikTok may answer an OAuth error with HTTP 200 and an `error` field.
    if (body.error || !body.access_token) throw new SocialApiError(platform, 'POST', url, 400, new Headers(), body);
    return { ...body, access_token: body.access_token };
  }

  const withParams = (base: string, params: Record<string, string>) => {
    const url = new URL(base);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  };
  const googleAuthorizationUrl = ({ redirectUri, state, scopes }: { redirectUri: string; state: string; scopes: string[] }) =>
    withParams(options.apps.google.authorizeUrl, {
      client_id: options.apps.google.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: scopes.join(' '),
      // offline + consent: Google returns a refresh token, so work goes on while the user is away.
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
      state,
    });
  const exchangeGoogleCode = async ({ code, redirectUri }: { code: string; redirectUri: string }): Promise<GoogleGrant> => {
    const { google } = options.apps;
    const answer = await token('youtube', google.tokenUrl, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: google.clientId,
      client_secret: google.clientSecret,
    });
    return {
      accessToken: answer.access_token,
      refreshToken: answer.refresh_token ?? null,
      expiresAt: expiry(answer.expires_in),
      scopes: answer.scope?.split(' ').filter(Boolean) ?? [],
    };
  };

  return {
    authorizationUrl(platform, { redirectUri, state }) {
      if (platform === 'youtube') return googleAuthorizationUrl({ redirectUri, state, scopes: GOOGLE_SCOPES });
      return withParams(options.apps.tiktok.authorizeUrl, {
        client_key: options.apps.tiktok.clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: TIKTOK_SCOPES.join(','),
        state,
      });
    },

    googleAuthorizationUrl: ({ redirectUri, state, services }) =>
      googleAuthorizationUrl({ redirectUri, state, scopes: [...new Set(services.flatMap((service) => GOOGLE_SERVICE_SCOPES[service]))] }),

    exchangeGoogleCode,

    async exchangeCode(platform, { code, redirectUri }) {
      if (platform === 'youtube') {
        const grant = await exchangeGoogleCode({ code, redirectUri });
        const channel = await options.youtube().getChannel({ mine: true, accessToken: grant.accessToken });
        return {
          platformUserId: channel.id,
          username: channel.customUrl?.replace(/^@/, '') ?? null,
          accessToken: grant.accessToken,
          refreshToken: grant.refreshToken,
          expiresAt: grant.expiresAt,
        };
      }
      const { tiktok } = options.apps;
      const answer = await token(platform, tiktok.tokenUrl, {
        client_key: tiktok.clientId,
        client_secret: tiktok.clientSecret,
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
      });
      if (!answer.open_id) throw new SocialApiError(platform, 'POST', tiktok.tokenUrl, 502, new Headers(), answer);
      return {
        platformUserId: answer.open_id,
        username: null,
        accessToken: answer.access_token,
        refreshToken: answer.refresh_token ?? null,
        expiresAt: expiry(answer.expires_in),
      };
    },
  };
}

/**
 * The OAuth apps from config: Google's when GOOGLE_API_KEY is set (GOOGLE_CLIENT_ID/SECRET), the
 * platforms' when SOCIAL_CLIENTS_JSON is set, else the sandboxes' consent screens and token endpoints.
 */
export function socialOAuthApps(config: Config, sandboxUrls: Record<string, string>): SocialOAuthApps {
  const sandbox = (name: string, keyName: string) => sandboxUrlFor(config, sandboxUrls, name, keyName);
  const google = (): OAuthApp => {
    if (!config.GOOGLE_API_KEY) {
      const url = sandbox('google', 'GOOGLE_API_KEY');
      return {
        authorizeUrl: `${url}/o/oauth2/v2/auth`,
        tokenUrl: `${url}/token`,
        clientId: 'sandbox-client-id',
        clientSecret: 'sandbox-client-secret',
      };
    }
    if (!config.GOOGLE_CLIENT_ID || !config.GOOGLE_CLIENT_SECRET)
      throw new ConfigError('GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are required to connect YouTube accounts');
    return {
      authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: GOOGLE_TOKEN_URL,
      clientId: config.GOOGLE_CLIENT_ID,
      clientSecret: config.GOOGLE_CLIENT_SECRET,
    };
  };
  const tiktok = (): OAuthApp => {
    const clients = parseSocialClients(config.SOCIAL_CLIENTS_JSON);
    if (clients)
      return {
        authorizeUrl: 'https://www.tiktok.com/v2/auth/authorize/',
        tokenUrl: `${PRODUCTION_SOCIAL_ENDPOINTS.tiktok}/v2/oauth/token/`,
        ...clients.tiktok,
      };
    const url = sandbox('social', 'SOCIAL_CLIENTS_JSON');
    return {
      authorizeUrl: `${url}/__sandbox/social/tiktok/authorize`,
      tokenUrl: `${sandboxSocialEndpoints(url).tiktok}/v2/oauth/token/`,
      ...SANDBOX_CREDENTIALS.social,
    };
  };
  // Resolved on first use: connecting one platform needs neither the other's keys nor its sandbox.
  let googleApp: OAuthApp | undefined;
  let tiktokApp: OAuthApp | undefined;
  return {
    get google() {
      return (googleApp ??= google());
    },
    get tiktok() {
      return (tiktokApp ??= tiktok());
    },
  };
}
