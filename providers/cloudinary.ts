import { Agent } from 'node:http';
import { v2 as cloudinary, type UploadApiOptions, type UploadApiResponse } from 'cloudinary';
import type { ProviderCall } from './call';

export interface CloudinaryCredentials {
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  /** API base URL; unset = https://api.cloudinary.com. An http:// prefix reaches a local sandbox. */
  uploadPrefix?: string;
  /** Host[:port] serving delivery URLs over plain http (the sandbox); unset = res.cloudinary.com over https. */
  deliveryHost?: string;
}

/** Reads `cloudinary://key:secret@cloud?upload_prefix=...` (the format Cloudinary's console shows). */
export function parseCloudinaryUrl(value: string): CloudinaryCredentials {
  const url = new URL(value);
  if (url.protocol !== 'cloudinary:' || !url.hostname || !url.username || !url.password)
    throw new Error('CLOUDINARY_URL must look like cloudinary://<api_key>:<api_secret>@<cloud_name>');
  return {
    cloudName: url.hostname,
    apiKey: decodeURIComponent(url.username),
    apiSecret: decodeURIComponent(url.password),
    uploadPrefix: url.searchParams.get('upload_prefix') ?? undefined,
  };
}

export type CloudinaryResourceType = 'image' | 'video' | 'raw';

export interface CloudinaryUploadInput {
  /** A local file path or the bytes themselves. */
  source: string | Buffer;
  /** Our stable id for the asset: a retried upload overwrites the same asset instead of adding one. */
  publicId: string;
  folder?: string;
  resourceType: CloudinaryResourceType;
  tags?: string[];
}

export interface CloudinaryAsset {
  publicId: string;
  version: number;
  resourceType: string;
  format: string;
  bytes: number;
  width: number | null;
  height: number | null;
  url: string;
}

export interface CloudinaryTransformation {
  width?: number;
  height?: number;
  crop?: 'fill' | 'fit' | 'limit' | 'pad' | 'scale' | 'thumb';
  gravity?: 'auto' | 'face' | 'center';
  quality?: 'auto' | number;
  format?: string;
}

function toAsset(result: UploadApiResponse): CloudinaryAsset {
  return {
    publicId: result.public_id,
    version: result.version,
    resourceType: result.resource_type,
    format: result.format,
    bytes: result.bytes,
    width: typeof result.width === 'number' ? result.width : null,
    height: typeof result.height === 'number' ? result.height : null,
    url: result.secure_url || result.url,
  };
}

/**
 * Cloudinary uploads, deletes and delivery URLs through the v2 SDK. Every call carries this
 * adapter's account (cloud name, key, secret, upload prefix) as per-call options instead of the
 * SDK's global config, so two adapters never share state. The SDK picks http or https once, when
 * first required (from CLOUDINARY_URL's upload_prefix); for an http:// prefix we pass an http
 * Agent per call, which makes the request plain http whatever the SDK chose at load time.
 */
export class CloudinaryAdapter {
  private readonly httpAgent: Agent | undefined;

  constructor(
    private readonly credentials: CloudinaryCredentials,
    private readonly call: ProviderCall,
  ) {
    this.httpAgent = credentials.uploadPrefix?.startsWith('http:') ? new Agent({ keepAlive: true }) : undefined;
  }

  private accountOptions(): UploadApiOptions {
    return {
      cloud_name: this.credentials.cloudName,
      api_key: this.credentials.apiKey,
      api_secret: this.credentials.apiSecret,
      upload_prefix: this.credentials.uploadPrefix,
      agent: this.httpAgent,
    };
  }

  /** Uploads under a fixed public id (overwrite + invalidate), so repeating it is harmless. */
  async upload(input: CloudinaryUploadInput): Promise<CloudinaryAsset> {
    const options: UploadApiOptions = {
      ...this.accountOptions(),
      public_id: input.publicId,
      folder: input.folder,
      resource_type: input.resourceType,
      overwrite: true,
      invalidate: true,
      tags: input.tags,
    };
    const { source } = input;
    const result = await this.call(() =>
      typeof source === 'string'
        ? cloudinary.uploader.upload(source, options)
        : new Promise<UploadApiResponse>((resolve, reject) => {
            // disable_promises: the stream form reports through the callback only (no dangling rejection)
            const stream = cloudinary.uploader.upload_stream({ ...options, disable_promises: true }, (error, response) => {
              // cloudinary reports plain objects ({ message, http_code }); keep their fields on an Error
              if (error || !response) reject(Object.assign(new Error(error?.message ?? 'cloudinary: empty upload response'), error));
              else resolve(response);
            });
            stream.end(source);
          }),
    );
    return toAsset(result);
  }

  /** Deletes an asset; true when it existed. Deleting twice is fine. */
  async destroy(publicId: string, resourceType: CloudinaryResourceType): Promise<boolean> {
    const result = await this.call(
      () =>
        cloudinary.uploader.destroy(publicId, { ...this.accountOptions(), resource_type: resourceType, invalidate: true }) as Promise<{
          result: string;
        }>,
    );
    return result.result === 'ok';
  }

  /** A delivery URL with an on-the-fly transformation (e.g. a 1280×720 fill thumbnail). */
  url(publicId: string, resourceType: CloudinaryResourceType, transformation: CloudinaryTransformation = {}, version?: number): string {
    const { format, ...rest } = transformation;
    const hasTransformation = Object.values(rest).some((v) => v !== undefined);
    return cloudinary.url(publicId, {
      cloud_name: this.credentials.cloudName,
      resource_type: resourceType,
      secure: !this.credentials.deliveryHost,
      cname: this.credentials.deliveryHost,
      version,
      format,
      transformation: hasTransformation ? [rest] : undefined,
      urlAnalytics: false,
    });
  }
}
