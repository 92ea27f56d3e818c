/**
 * Why a signup ended, in words for the participant. The codes are the ones the flow records
 * (rejectionReason, cancellation causes); an unknown code is shown as it is.
 */
const reasons: Record<string, Record<string, string>> = {
  sold_out: { en: 'the event is full', nb: 'arrangementet er fullt' },
  event_not_open: { en: 'the event no longer takes signups', nb: 'arrangementet tar ikke lenger imot påmeldinger' },
  guardian_declined: { en: 'a guardian declined', nb: 'en foresatt takket nei' },
  guardian_did_not_answer: { en: 'a guardian did not answer in time', nb: 'en foresatt svarte ikke i tide' },
  waitlist_closed: { en: 'the waiting list has closed', nb: 'ventelisten er stengt' },
  payment_not_received: {
    en: 'the payment did not arrive before the reservation ran out',
    nb: 'betalingen kom ikke før reservasjonen gikk ut',
  },
  offer_expired: { en: 'the offered place was not taken in time', nb: 'den tilbudte plassen ble ikke tatt i tide' },
  paid_after_hold_expired: {
    en: 'your payment arrived after the reservation ran out and no place was left, so it is refunded in full',
    nb: 'betalingen kom etter at reservasjonen gikk ut og det var ingen plass igjen, så den refunderes i sin helhet',
  },
  signup_cancelled: {
    en: 'the signup was cancelled before the payment arrived',
    nb: 'påmeldingen ble avmeldt før betalingen kom',
  },
  event_cancelled: { en: 'the event is cancelled', nb: 'arrangementet er avlyst' },
  signup_ended: {
    en: 'the payment arrived after the signup had ended',
    nb: 'betalingen kom etter at påmeldingen var avsluttet',
  },
  signup_unknown: {
    en: 'the payment does not belong to a signup we have',
    nb: 'betalingen hører ikke til en påmelding vi har',
  },
  payment_not_as_quoted: {
    en: 'the payment did not match the price we quoted',
    nb: 'betalingen stemte ikke med prisen vi oppga',
  },
};

export function reasonText(code: string, locale: string): string {
  const texts = reasons[code];
  if (!texts) return code;
  return texts[locale.split('-')[0] ?? ''] ?? texts.en ?? code;
}
