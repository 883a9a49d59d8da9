/* The framed protocol over the console UART (frame.h). */
#include "board.h"
#include "frame.h"
#include "uart.h"

#define SYNC0 0x4Fu /* 'O' */
#define SYNC1 0x51u /* 'Q' */

/* A frame whose next byte does not come within this many polls (a second or more on a board: several cycles a
   poll) is abandoned, so a frame cut short on the line does not swallow the host's next one. */
#define GAP_POLLS (BOARD_CLOCK_HZ)

/* The next byte of a frame, or -1 after a gap. */
static int get_within_gap(void) {
    uint32_t polls;
    for (polls = 0; polls < GAP_POLLS; polls++) {
        int byte = uart_read();
        if (byte >= 0) {
            return byte;
        }
    }
    return -1;
}

static uint16_t crc16(uint16_t crc, uint8_t byte) {
    int bit;
    crc ^= (uint16_t)(byte << 8);
    for (bit = 0; bit < 8; bit++) {
        crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* Reads the frame's next byte into the CRC; nonzero after a gap. */
static int get_crc(uint16_t *crc, uint8_t *byte) {
    int got = get_within_gap();
    if (got < 0) {
        return 1;
    }
    *byte = (uint8_t)got;
    *crc = crc16(*crc, *byte);
    return 0;
}

/* Hunts for "OQ", then reads the header and the payload; FRAME_GAP when the line goes quiet mid-frame. */
static enum frame_status receive_once(struct frame *frame, uint8_t *payload, uint16_t capacity) {
    uint16_t crc = 0xFFFFu, i;
    uint8_t header[5], sent[2];
    int byte = uart_get();
    for (;;) {
        while (byte != SYNC0) {
            byte = uart_get();
        }
        byte = get_within_gap();
        if (byte == SYNC1) {
            break;
        }
        if (byte < 0) {
            return FRAME_GAP;
        }
    }
    for (i = 0; i < sizeof header; i++) {
        if (get_crc(&crc, &header[i])) {
            return FRAME_GAP;
        }
    }
    frame->kind = header[0];
    frame->seq = (uint16_t)(header[1] | header[2] << 8);
    frame->len = (uint16_t)(header[3] | header[4] << 8);
    if (frame->len > capacity) {
        return FRAME_TOO_LONG;
    }
    for (i = 0; i < frame->len; i++) {
        if (get_crc(&crc, &payload[i])) {
            return FRAME_GAP;
        }
    }
    for (i = 0; i < 2u; i++) {
        int got = get_within_gap();
        if (got < 0) {
            return FRAME_GAP;
        }
        sent[i] = (uint8_t)got;
    }
    return (uint16_t)(sent[0] | sent[1] << 8) == crc ? FRAME_OK : FRAME_BAD_CRC;
}

enum frame_status frame_receive(struct frame *frame, uint8_t *payload, uint16_t capacity) {
    enum frame_status status;
    frame->seq = 0u;
    /* A frame cut short is dropped without a reply: the host sends it again when no reply comes. */
    while ((status = receive_once(frame, payload, capacity)) == FRAME_GAP) {
    }
    return status;
}

static void put_crc(uint16_t *crc, uint8_t byte) {
    *crc = crc16(*crc, byte);
    uart_write(byte);
}

void frame_send2(uint8_t kind, uint16_t seq, const uint8_t *head, uint16_t head_len, const uint8_t *body,
                 uint16_t body_len) {
    uint16_t crc = 0xFFFFu, len = (uint16_t)(head_len + body_len), i;
    uart_write(SYNC0);
    uart_write(SYNC1);
    put_crc(&crc, kind);
    put_crc(&crc, (uint8_t)seq);
    put_crc(&crc, (uint8_t)(seq >> 8));
    put_crc(&crc, (uint8_t)len);
    put_crc(&crc, (uint8_t)(len >> 8));
    for (i = 0; i < head_len; i++) {
        put_crc(&crc, head[i]);
    }
    for (i = 0; i < body_len; i++) {
        put_crc(&crc, body[i]);
    }
    uart_write((uint8_t)crc);
    uart_write((uint8_t)(crc >> 8));
}

void frame_send(uint8_t kind, uint16_t seq, const uint8_t *payload, uint16_t len) {
    frame_send2(kind, seq, payload, len, payload, 0u);
}
