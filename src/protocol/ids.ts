/** What ids and topic roots are made of: letters, digits and `_.:-`, safe in topics and URLs. */
export const ID_CHARACTERS = /^[A-Za-z0-9_.:-]+$/

/** A device id: 1–64 of those characters. */
export const DEVICE_ID = /^[A-Za-z0-9_.:-]{1,64}$/
