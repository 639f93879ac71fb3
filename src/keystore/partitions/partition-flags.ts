/** The partition security policy (reference §6.1) as stored on a partition. */
export interface PartitionFlags {
  allowKeyImport: boolean;
  allowKeyExport: boolean;
  keyInvalidation: boolean;
  readOnly: boolean;
  allowObjectDestruction: boolean;
  allowObjectUsage: boolean;
}

export const DEFAULT_PARTITION_FLAGS: Readonly<PartitionFlags> = Object.freeze({
  allowKeyImport: true,
  allowKeyExport: false,
  keyInvalidation: false,
  readOnly: false,
  allowObjectDestruction: true,
  allowObjectUsage: true,
});
