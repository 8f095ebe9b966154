// proxy-from-env ships no types; the one function this package uses.
declare module 'proxy-from-env' {
  /** The proxy URL the environment names for `url` (NO_PROXY applied), or '' for none. */
  export function getProxyForUrl(url: string | URL): string;
}
