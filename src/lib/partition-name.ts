/** What a partition name may be: 1-64 characters, letters, digits, ".", "_" or "-", starting with a letter or digit. */
export const PARTITION_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
