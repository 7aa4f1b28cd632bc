// DICOMweb credentials in Electron: encrypted with the OS keychain (safeStorage) into a file under the
// app's user data, never in a project folder; without keychain encryption they stay in memory only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { app, safeStorage } from 'electron';
import type { SecretStore } from '../api/dicomweb-calls';
import { memorySecretStore } from '../api/dicomweb-calls';
import type { DicomwebAuth } from '../dicomweb/http';
import { writeFileAtomic } from '../util/atomic';

export function keychainSecretStore(): SecretStore {
  let encrypts = false;
  try {
    encrypts = safeStorage.isEncryptionAvailable();
  } catch {
    // No keychain API here (a stripped-down or test Electron): fall back to memory.
  }
  if (!encrypts) return memorySecretStore();
  const file = join(app.getPath('userData'), 'dicomweb-credentials.bin');
  let secrets: Record<string, DicomwebAuth> = {};
  try {
    secrets = JSON.parse(safeStorage.decryptString(readFileSync(file))) as Record<string, DicomwebAuth>;
  } catch {
    // No file yet, or one this user's keychain cannot open: start empty.
  }
  const save = (): void => {
    void writeFileAtomic(file, safeStorage.encryptString(JSON.stringify(secrets))).catch(() => undefined);
  };
  return {
    get: (url) => secrets[url],
    set: (url, auth) => {
      if (auth) secrets[url] = auth;
      else delete secrets[url];
      save();
    },
  };
}
