/**
 * Decodes Stripe's form encoding (`items[0][price]=p&metadata[k]=v&expand[0]=x`, as stripe-node
 * writes it for POST bodies and GET/DELETE query strings) into nested objects and arrays.
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export function decodeStripeForm(encoded: string): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of new URLSearchParams(encoded)) {
    const [head, ...rest] = rawKey.split('[');
    if (!head) continue;
    const path = [head, ...rest.map((segment) => segment.replace(/]$/, ''))];
    let node: FormObject | FormValue[] = root;
    path.forEach((segment, index) => {
      const last = index === path.length - 1;
      const container = node as Record<string, FormValue>;
      if (last) {
        container[segment] = value;
        return;
      }
      const nextIsIndex = /^\d+$/.test(path[index + 1] ?? '');
      container[segment] ??= nextIsIndex ? [] : {};
      node = container[segment] as FormObject | FormValue[];
    });
  }
  return root;
}

/** Reads a string field; undefined when absent or not a string. */
export function str(form: FormObject, key: string): string | undefined {
  const value = form[key];
  return typeof value === 'string' ? value : undefined;
}

export function obj(form: FormObject, key: string): FormObject {
  const value = form[key];
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

export function list(form: FormObject, key: string): FormValue[] {
  const value = form[key];
  if (Array.isArray(value)) return value.filter((v) => v !== undefined);
  if (value && typeof value === 'object') return Object.values(value);
  return [];
}

export function int(form: FormObject, key: string): number | undefined {
  const value = str(form, key);
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) ? n : undefined;
}

export function bool(form: FormObject, key: string): boolean | undefined {
  const value = str(form, key);
  return value === undefined ? undefined : value === 'true';
}

/** Metadata as a flat string map (Stripe metadata values are strings; '' deletes a key). */
export function metadata(form: FormObject): Record<string, string> {
  return Object.fromEntries(Object.entries(obj(form, 'metadata')).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
