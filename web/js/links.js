// Links the API hands out (PDFs, labels, CSV reports) are presigned links to the stack's documents bucket.
// Deployed, only those are followed: https, on the bucket named in config.json, so an answer that was
// tampered with (or a bug) cannot send the seller to another site. Locally (no config.json) the bucket is
// moto's, over http on this machine.
import { deployedConfig } from "./auth.js";

/** The URL if the dashboard may open it as a document, else null. */
export function documentUrl(url, config = deployedConfig()) {
  if (typeof url !== "string" || !url) return null;
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const bucket = config?.documentsBucket;
  if (!config) return parsed.protocol === "http:" || parsed.protocol === "https:" ? url : null;
  if (!bucket || parsed.protocol !== "https:") return null;
  const region = config.region || "us-east-1";
  const virtualHosts = [`${bucket}.s3.amazonaws.com`, `${bucket}.s3.${region}.amazonaws.com`];
  const pathHosts = ["s3.amazonaws.com", `s3.${region}.amazonaws.com`];
  if (virtualHosts.includes(parsed.hostname)) return url;
  if (pathHosts.includes(parsed.hostname) && parsed.pathname.startsWith(`/${bucket}/`)) return url;
  return null;
}
