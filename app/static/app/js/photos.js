// A photo from the camera, made fit for a 2G upload on the phone itself: shrunk to a long
// side of at most 1600 px, re-encoded as JPEG (which also drops the EXIF block, GPS tags
// and all), hashed with WebCrypto, and kept in IndexedDB until the server has it.
import { photos } from "./store.js";

export const LONG_SIDE = 1600;
const QUALITY = 0.82;

export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function shrink(file) {
  // `from-image`: a phone's portrait photo stands up as it was taken (EXIF orientation).
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  let blob;
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
    blob = await canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
  } else {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
    blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
  }
  bitmap.close();
  return { blob, width, height };
}

// Take a camera file: shrink, hash, keep. Returns the report's photo entry.
export async function takePhoto(file, takenAt) {
  const { blob, width, height } = await shrink(file);
  const sha256 = await sha256Hex(blob);
  const existing = await photos.get(sha256);
  if (!existing) {
    await photos.put({ sha256, blob, type: "image/jpeg", size: blob.size, width, height, uploaded: 0, offset: 0,
      report_id: null, taken_at: takenAt });
  }
  return { sha256, taken_at: takenAt, caption: "" };
}
