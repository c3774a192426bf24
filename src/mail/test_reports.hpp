#pragma once
// TEST-ONLY. Reports as mail systems write them, for the tests of the
// bounce reader: a delivery status notification shaped as Postfix sends
// one (RFC 3464) and a feedback report shaped as a mailbox provider's
// feedback loop sends one (RFC 5965, with the reported message attached).
#include <string>

namespace rempart::mail::testing {

struct Reported {
  std::string return_path;       // the reported message's envelope sender (a VERP address)
  std::string message_id;        // without brackets; "" for none
  std::string list_unsubscribe;  // the header's value; "" for none
  std::string to = "person@example.net";  // the recipient, which no reader may keep
};

inline std::string reported_headers(const Reported& o) {
  std::string h = "Return-Path: <" + o.return_path + ">\r\n" +
                  "From: Mouvement <contact@mouvement.example>\r\n" + "To: " + o.to + "\r\n" +
                  "Subject: Our news\r\n";
  if (!o.message_id.empty()) h += "Message-ID: <" + o.message_id + ">\r\n";
  if (!o.list_unsubscribe.empty()) h += "List-Unsubscribe: " + o.list_unsubscribe + "\r\n";
  return h;
}

// A bounce delivered to `delivered_to`, with one recipient group whose
// Action and Status are given, and the reported message's headers.
inline std::string dsn(const std::string& delivered_to, const std::string& action, const std::string& status,
                       const Reported& o) {
  std::string m = "Return-Path: <>\r\nDelivered-To: " + delivered_to + "\r\n" +
                  "From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\n" + "To: " + delivered_to + "\r\n" +
                  "Subject: Undelivered Mail Returned to Sender\r\n" +
                  "Date: Sun, 6 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
                  "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"B1\"\r\n\r\n" +
                  "--B1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
                  "Your message could not be delivered to " + o.to + ".\r\n\r\n" +
                  "--B1\r\nContent-Type: message/delivery-status\r\n\r\n" +
                  "Reporting-MTA: dns; mx.example\r\nArrival-Date: Sun, 6 Dec 2026 09:59:00 +0000\r\n\r\n" +
                  "Final-Recipient: rfc822; " + o.to + "\r\nOriginal-Recipient: rfc822;" + o.to + "\r\n" +
                  "Action: " + action + "\r\n";
  if (!status.empty()) m += "Status: " + status + "\r\n";
  m += "Remote-MTA: dns; mx.example.net\r\nDiagnostic-Code: smtp; 550 5.1.1 <" + o.to +
       ">: Recipient address rejected:\r\n    User unknown\r\n\r\n" +
       "--B1\r\nContent-Type: text/rfc822-headers\r\n\r\n" + reported_headers(o) + "\r\n--B1--\r\n";
  return m;
}

// A complaint of type `type` sent to `delivered_to` (the organisation's
// feedback-loop address), the reported message attached whole.
inline std::string arf(const std::string& delivered_to, const std::string& type, const Reported& o) {
  return "From: fbl@provider.example\r\nTo: " + delivered_to + "\r\n" + "Subject: FW: Our news\r\n" +
         "Date: Sun, 6 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
         "Content-Type: multipart/report; report-type=feedback-report; boundary=\"F1\"\r\n\r\n" +
         "--F1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThis is an e-mail abuse report.\r\n\r\n" +
         "--F1\r\nContent-Type: message/feedback-report\r\n\r\n" + "Feedback-Type: " + type + "\r\n" +
         "User-Agent: SomeGenerator/1.0\r\nVersion: 1\r\nOriginal-Rcpt-To: " + o.to + "\r\n\r\n" +
         "--F1\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n" + reported_headers(o) +
         "\r\nHello, here is our news.\r\n\r\n--F1--\r\n";
}

}  // namespace rempart::mail::testing
