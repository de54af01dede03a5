/** A device id (contract §1): 1–64 characters of letters, digits and `_.:-`. */
export const DEVICE_ID = /^[A-Za-z0-9_.:-]{1,64}$/
