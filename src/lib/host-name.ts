/** A URL or Host header writes an IPv6 address in brackets (`[::1]`); address parsers want it without. */
export const unbracket = (host: string): string => host.replace(/^\[|\]$/g, '');
