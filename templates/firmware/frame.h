/* ompqc's framed serial protocol (docs/FIRMWARE.md): "OQ", kind, sequence number (16 bits), payload length
   (16 bits), the payload, and a CRC-16/CCITT-FALSE of kind to payload; multi-byte fields little-endian. A receiver
   hunts for "OQ", so garbage between frames is skipped. */
#ifndef OMPQC_FRAME_H
#define OMPQC_FRAME_H

#include <stdint.h>

enum frame_status {
    FRAME_OK = 0,
    FRAME_BAD_CRC = 1,
    FRAME_TOO_LONG = 2,
    FRAME_BAD_KIND = 3,
    FRAME_BAD_LENGTH = 4,
    /* The line went quiet mid-frame (never returned by frame_receive, which then waits for the next frame). */
    FRAME_GAP = 5
};

struct frame {
    uint8_t kind;
    uint16_t seq;
    uint16_t len;
};

/* Receives the next frame whose payload fits in `capacity` bytes of `payload`; a frame cut short by a pause on
   the line is dropped. */
enum frame_status frame_receive(struct frame *frame, uint8_t *payload, uint16_t capacity);
void frame_send(uint8_t kind, uint16_t seq, const uint8_t *payload, uint16_t len);
/* A frame whose payload is two parts (a header and a body), without copying them together. */
void frame_send2(uint8_t kind, uint16_t seq, const uint8_t *head, uint16_t head_len, const uint8_t *body,
                 uint16_t body_len);

#endif
